#!/usr/bin/env bash
# Self-signed CA and server certificates for a MyMONIT stack (nginx, RabbitMQ, Kibana), made with
# openssl. Usage: scripts/gen-certs.sh [OUT_DIR] (default deploy/certs, git-ignored). Existing
# files are kept; --force makes new ones. Extra names: MYMONIT_HOSTNAME=monit.example.org.
# For production, put certificates from a real CA in the same places.
set -euo pipefail

force=0
out=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) out="$arg" ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${out:-$root/deploy/certs}"
host="${MYMONIT_HOSTNAME:-localhost}"
days_ca=3650
days_server=825

command -v openssl >/dev/null || { echo "gen-certs: openssl is required (apt-get install -y openssl)" >&2; exit 1; }
mkdir -p "$out"
# Nothing here may ever be committed.
printf '*\n!.gitignore\n' > "$out/.gitignore"

if [ "$force" = 1 ] || [ ! -s "$out/ca.pem" ] || [ ! -s "$out/ca-key.pem" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca-key.pem"
  openssl req -x509 -new -key "$out/ca-key.pem" -sha256 -days "$days_ca" \
    -subj "/O=MyMONIT/CN=MyMONIT local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.pem"
  force=1 # a new CA invalidates every certificate it signed
fi

# issue NAME SAN…: NAME/server.pem and NAME/server-key.pem signed by the CA.
issue() {
  local name="$1"; shift
  local dir="$out/$name"
  mkdir -p "$dir"
  if [ "$force" = 0 ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server-key.pem" ]; then return; fi
  local san
  san="$(printf '%s\n' "$@" | awk '!seen[$0]++' | paste -sd, -)"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server-key.pem"
  openssl req -new -key "$dir/server-key.pem" -subj "/O=MyMONIT/CN=$1" -out "$dir/server.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$san" > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial \
    -days "$days_server" -sha256 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
  rm -f "$dir/server.csr" "$dir/ext.cnf"
  cp "$out/ca.pem" "$dir/ca.pem"
  # The containers read these as their own users (nginx, rabbitmq 999, kibana 1000): readable
  # keys are acceptable for these local, self-signed certificates only.
  chmod 644 "$dir/server-key.pem" "$dir/server.pem" "$dir/ca.pem"
}

issue nginx "DNS:$host" "DNS:localhost" "IP:127.0.0.1"
issue rabbitmq "DNS:rabbitmq" "DNS:$host" "DNS:localhost" "IP:127.0.0.1"
issue kibana "DNS:kibana" "DNS:$host" "DNS:localhost" "IP:127.0.0.1"
chmod 600 "$out/ca-key.pem"
echo "gen-certs: certificates in $out (CA: $out/ca.pem)"
