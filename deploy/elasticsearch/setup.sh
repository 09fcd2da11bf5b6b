#!/bin/bash
# One-shot (es-setup in docker-compose.yml): the built-in kibana_system password, and one role and
# user per writer, each limited to its own indices. Idempotent: safe to run at every start.
set -euo pipefail

es="${ELASTICSEARCH_URL:-http://elasticsearch:9200}"
for var in ELASTIC_PASSWORD KIBANA_SYSTEM_PASSWORD ES_AUDIT_PASSWORD ES_LOGS_PASSWORD LOGSTASH_ES_PASSWORD; do
  value="${!var:-}"
  if [[ ! "$value" =~ ^[A-Za-z0-9_-]{12,}$ ]] || [[ "$value" == change-me* ]]; then
    echo "es-setup: $var must be at least 12 letters, digits, - or _ (and not the example value)" >&2
    exit 1
  fi
done

call() { # METHOD PATH JSON
  curl -fsS -u "elastic:${ELASTIC_PASSWORD}" -X "$1" "$es$2" -H 'content-type: application/json' -d "$3" >/dev/null
}

for _ in $(seq 1 60); do
  curl -fsS -u "elastic:${ELASTIC_PASSWORD}" "$es/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1 && break
  sleep 5
done

call POST /_security/user/kibana_system/_password "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"

# The audit shipper: its index template, and `index` (not only create) so a document sent again
# after a crash rewrites itself; no delete. It also ships its own logs.
call PUT /_security/role/mymonit_audit_writer '{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [
    { "names": ["mymonit-audit-*"], "privileges": ["create_index", "index", "view_index_metadata"] },
    { "names": ["mymonit-logs-*"], "privileges": ["create_index", "create_doc", "view_index_metadata"] }
  ]
}'
# Services shipping their operational logs through winston-elasticsearch.
call PUT /_security/role/mymonit_log_writer '{
  "cluster": ["monitor"],
  "indices": [{ "names": ["mymonit-logs-*"], "privileges": ["create_index", "create_doc", "view_index_metadata"] }]
}'
# Logstash: nginx, RabbitMQ and MySQL logs from Filebeat, and the mymonit-logs template.
call PUT /_security/role/mymonit_logstash_writer '{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [{ "names": ["mymonit-logs-*"], "privileges": ["create_index", "create_doc", "view_index_metadata"] }]
}'
# People who read audit and logs in Kibana without administering anything.
call PUT /_security/role/mymonit_auditor '{
  "indices": [{ "names": ["mymonit-audit-*", "mymonit-logs-*"], "privileges": ["read", "view_index_metadata"] }],
  "applications": [{ "application": "kibana-.kibana", "privileges": ["feature_discover.read", "feature_dashboard.read", "feature_visualize.read"], "resources": ["*"] }]
}'

call PUT /_security/user/mymonit_audit "{\"password\":\"${ES_AUDIT_PASSWORD}\",\"roles\":[\"mymonit_audit_writer\"]}"
call PUT /_security/user/mymonit_logs "{\"password\":\"${ES_LOGS_PASSWORD}\",\"roles\":[\"mymonit_log_writer\"]}"
call PUT /_security/user/logstash_internal "{\"password\":\"${LOGSTASH_ES_PASSWORD}\",\"roles\":[\"mymonit_logstash_writer\"]}"
echo "es-setup: users and roles are in place"
