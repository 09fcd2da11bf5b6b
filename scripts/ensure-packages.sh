#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real, when missing: Chromium for the web page's
# end-to-end tests, nginx for the TLS front, docker-compose to validate the compose file offline,
# openssl for the test certificates (scripts/gen-certs.sh).
# Idempotent; apt-get update runs only when something is to be installed.
set -euo pipefail

declare -A wanted=(
  [chromium]=/usr/bin/chromium
  [nginx]=/usr/sbin/nginx
  [docker-compose]=/usr/bin/docker-compose
  [openssl]=/usr/bin/openssl
)

missing=()
for pkg in "${!wanted[@]}"; do
  [ -x "${wanted[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ensure-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# nginx's package starts a server on port 80 on install; the tests run their own instances.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -x /usr/sbin/nginx ] && pgrep -x nginx >/dev/null && [ -f /run/nginx.pid ]; then
  nginx -s quit 2>/dev/null || true
fi
