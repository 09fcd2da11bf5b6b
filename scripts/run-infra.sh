#!/usr/bin/env bash
# Only the infrastructure (MySQL and RabbitMQ) in Docker, published on localhost, for running the
# MyMONIT processes on this machine (npm run api / ingest / audit-shipper). Extra arguments go to
# `compose up` (default -d). Needs .env (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
[ -f .env ] || { echo "run-infra: no .env: copy .env.example to .env and set every secret in it" >&2; exit 1; }
bash scripts/gen-certs.sh deploy/certs
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(-d)
"${compose[@]}" -f docker-compose.yml -f deploy/compose.infra.yml up "${args[@]}" mysql rabbitmq
cat <<MSG
run-infra: MySQL on 127.0.0.1:3306 (database mymonit), RabbitMQ AMQP over TLS on 127.0.0.1:5671
(vhost mymonit, CA deploy/certs/ca.pem), management UI on http://127.0.0.1:15672. For example:
  MYSQL_URL=mysql://mymonit_migrate:<MYSQL_MIGRATE_PASSWORD>@127.0.0.1:3306/mymonit npm run db:migrate
  NODE_EXTRA_CA_CERTS=deploy/certs/ca.pem AMQP_URL=amqps://ingest:<RABBITMQ_INGEST_PASSWORD>@localhost:5671/mymonit \\
    MYSQL_URL=mysql://mymonit_ingest:<MYSQL_INGEST_PASSWORD>@127.0.0.1:3306/mymonit npm run ingest
MSG
