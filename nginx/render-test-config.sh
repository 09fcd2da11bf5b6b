#!/usr/bin/env bash
# Copies this nginx configuration under a scratch prefix so the host's nginx can check or run it
# without root-owned paths or Docker names: render-test-config.sh DEST UPSTREAM HTTPS_PORT
# HTTP_PORT CERT_DIR (CERT_DIR holding server.pem and server-key.pem, e.g. from gen-certs.sh).
# Only paths, ports, the upstream address and the worker user change; every directive under test
# stays as deployed. Run nginx then with: nginx -p DEST/ -c DEST/nginx.conf -e DEST/logs/error.log
set -euo pipefail
[ "$#" -eq 5 ] || { sed -n '2,6p' "$0" >&2; exit 2; }
dest="$1" upstream="$2" https_port="$3" http_port="$4" certs="$5"
here="$(cd "$(dirname "$0")" && pwd)"
mime="/etc/nginx/mime.types"
[ -f "$mime" ] || { echo "render-test-config: $mime not found (apt-get install -y nginx)" >&2; exit 1; }

mkdir -p "$dest/conf.d" "$dest/snippets" "$dest/certs" "$dest/logs" "$dest/html"
cp "$mime" "$dest/mime.types"
cp "$here/snippets/"*.conf "$dest/snippets/"
cp "$certs/server.pem" "$certs/server-key.pem" "$dest/certs/"
if [ "$(id -u)" -eq 0 ]; then user_line="user nobody nogroup;"; else user_line=""; fi

sed -e "s|^user .*;|$user_line|" \
    -e "s|/var/run/nginx.pid|$dest/nginx.pid|" \
    -e "s|/var/log/nginx/|$dest/logs/|g" \
    "$here/nginx.conf" > "$dest/nginx.conf"
sed -e "s|server api:8080;|server $upstream;|" \
    -e "s|/usr/share/nginx/html|$dest/html|" \
    -e "s|^\(\s*\)listen 443 |\1listen 127.0.0.1:$https_port |" \
    -e "s|^\(\s*\)listen 80 |\1listen 127.0.0.1:$http_port |" \
    -e "/listen \[::\]/d" \
    "$here/conf.d/mymonit.conf" > "$dest/conf.d/mymonit.conf"
# Workers run as nobody: they must read the page and the certificates.
chmod -R a+rX "$dest"
