#!/usr/bin/env bash
# Builds MyMONIT and starts the whole stack with Docker Compose (docker-compose.yml).
#   scripts/run.sh            production-like: a real Firebase project (.env)
#   scripts/run.sh --dev      with the Firebase Auth emulator (compose profile "dev")
# Extra arguments go to `compose up` (e.g. -d). Needs .env (copy .env.example, set every secret).
set -euo pipefail
cd "$(dirname "$0")/.."

profile_args=()
up_args=()
dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1; profile_args=(--profile dev) ;;
    *) up_args+=("$arg") ;;
  esac
done

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
[ -f .env ] || { echo "run: no .env: copy .env.example to .env and set every secret in it" >&2; exit 1; }
if grep -qE '=change-me' .env; then
  echo "run: .env still has change-me values; set real secrets (e.g. openssl rand -hex 24)" >&2
  exit 1
fi

# Certificates for nginx, RabbitMQ and Kibana (kept if already there).
set -a; . ./.env; set +a
bash scripts/gen-certs.sh deploy/certs

secret_file="${FIREBASE_SERVICE_ACCOUNT_FILE:-./deploy/secrets/firebase-service-account.json}"
if [ ! -s "$secret_file" ]; then
  if [ "$dev" = 1 ]; then
    # The emulator needs no credentials; compose needs the secret's file to exist.
    mkdir -p "$(dirname "$secret_file")"
    echo '{}' > "$secret_file"
  else
    echo "run: $secret_file is missing: put the Firebase service account key (JSON) there" >&2
    exit 1
  fi
fi

# The web page (web/build.mjs), served by nginx with its runtime config.json beside it.
web_root="${MYMONIT_WEB_ROOT:-./web/dist}"
if [ -f web/build.mjs ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
  node web/build.mjs --outdir "$web_root" >/dev/null
fi
mkdir -p "$web_root"
if [ ! -f "$web_root/config.json" ]; then
  echo "run: note: $web_root/config.json is missing: the web page needs it (see web/config.example.json)" >&2
fi

"${compose[@]}" "${profile_args[@]}" build
exec "${compose[@]}" "${profile_args[@]}" up "${up_args[@]}"
