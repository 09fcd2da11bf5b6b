#!/usr/bin/env bash
# Offline checks of the deployment files, run by `npm test` (test/deploy-config.test.ts):
#   compose  docker-compose.yml (with and without the dev profile, and the run-infra overlay)
#            through Debian's docker-compose `config -q`, with .env.example as the environment
#   nginx    `nginx -t` on nginx/ rendered under a scratch prefix with a generated certificate
#   k8s      deploy/k8s against the Kubernetes and KEDA schemas (deploy/validate-k8s.mjs)
#   all      the three (default)
#   ensure TOOL…  install missing tools with apt-get (docker-compose, nginx, openssl)
# A tool that is missing and cannot be installed is a failure with a message, never a skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

fail() { echo "validate-deploy: $*" >&2; exit 1; }

apt_updated=0
ensure() {
  local tool pkg
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 && continue
    case "$tool" in
      docker-compose) pkg=docker-compose ;;
      nginx) pkg=nginx ;;
      openssl) pkg=openssl ;;
      *) fail "no package known for $tool" ;;
    esac
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      fail "$tool is missing and cannot be installed here (needs root and apt-get): apt-get install -y $pkg"
    fi
    echo "validate-deploy: installing $pkg"
    if [ "$apt_updated" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || fail "apt-get update failed"
      apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null || fail "apt-get install -y $pkg failed"
    command -v "$tool" >/dev/null 2>&1 || fail "$tool still missing after installing $pkg"
  done
}

check_compose() {
  ensure docker-compose
  local args=(-f docker-compose.yml --env-file .env.example)
  docker-compose "${args[@]}" config -q || fail "docker-compose.yml is invalid"
  docker-compose "${args[@]}" --profile dev config -q || fail "docker-compose.yml is invalid with --profile dev"
  docker-compose "${args[@]}" -f deploy/compose.infra.yml config -q || fail "deploy/compose.infra.yml overlay is invalid"
  echo "compose: docker-compose.yml valid (default, dev profile, infra overlay)"
}

check_nginx() {
  ensure nginx openssl
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  bash scripts/gen-certs.sh "$tmp/certs" >/dev/null
  # The api upstream becomes a loopback address: `api` only resolves inside compose.
  bash nginx/render-test-config.sh "$tmp/nginx" 127.0.0.1:8080 8443 8080 "$tmp/certs/nginx"
  nginx -t -q -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" || fail "nginx -t failed"
  echo "nginx: configuration valid ($(nginx -v 2>&1))"
}

check_k8s() {
  node deploy/validate-k8s.mjs deploy/k8s || fail "deploy/k8s has invalid manifests"
}

cmd="${1:-all}"
case "$cmd" in
  ensure) shift; ensure "$@" ;;
  compose) check_compose ;;
  nginx) check_nginx ;;
  k8s) check_k8s ;;
  all) check_compose; check_nginx; check_k8s ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
