#!/usr/bin/env bash
# Imports the MyMONIT saved objects (data views mymonit-audit-* and mymonit-logs-*, the audit
# dashboard) through Kibana's saved objects API, and makes the audit data view the default.
# Idempotent (overwrite=true). Environment: KIBANA_URL (default https://kibana:5601),
# KIBANA_USER (default elastic), KIBANA_PASSWORD, KIBANA_CA (CA file for Kibana's certificate).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
url="${KIBANA_URL:-https://kibana:5601}"
: "${KIBANA_PASSWORD:?KIBANA_PASSWORD is required}"
curl_opts=(-sS -u "${KIBANA_USER:-elastic}:${KIBANA_PASSWORD}" -H 'kbn-xsrf: mymonit')
if [ -n "${KIBANA_CA:-}" ]; then curl_opts+=(--cacert "$KIBANA_CA"); fi

ready=0
for _ in $(seq 1 90); do
  if curl "${curl_opts[@]}" "$url/api/status" 2>/dev/null | grep -q '"level":"available"'; then ready=1; break; fi
  sleep 5
done
[ "$ready" = 1 ] || { echo "kibana-setup: Kibana at $url did not become available" >&2; exit 1; }

for file in "$here"/data-views.ndjson "$here"/audit-dashboard.ndjson; do
  reply="$(curl "${curl_opts[@]}" -X POST "$url/api/saved_objects/_import?overwrite=true" --form "file=@$file")"
  if ! grep -q '"success":true' <<<"$reply"; then
    echo "kibana-setup: importing $(basename "$file") failed: $reply" >&2
    exit 1
  fi
  echo "kibana-setup: imported $(basename "$file")"
done

curl "${curl_opts[@]}" -f -X POST "$url/api/kibana/settings" -H 'content-type: application/json' \
  -d '{"changes":{"defaultIndex":"mymonit-audit"}}' >/dev/null
echo "kibana-setup: done (dashboard \"MyMONIT audit\")"
