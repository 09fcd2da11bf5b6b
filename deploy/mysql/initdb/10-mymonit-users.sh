#!/bin/bash
# One account per MyMONIT service, with only what it needs (the original connected as root).
# The official mysql image runs this once, when it initialises an empty data volume; passwords come
# from the container environment (.env). Later password changes: ALTER USER by hand.
set -euo pipefail

db="${MYSQL_DATABASE:?MYSQL_DATABASE must name the MyMONIT database}"
for var in MYSQL_MIGRATE_PASSWORD MYSQL_API_PASSWORD MYSQL_INGEST_PASSWORD MYSQL_AUDIT_PASSWORD; do
  value="${!var:-}"
  # Checked, not escaped: the same values go into MYSQL_URL connection strings.
  if [[ ! "$value" =~ ^[A-Za-z0-9_-]{12,}$ ]] || [[ "$value" == change-me* ]]; then
    echo "10-mymonit-users: $var must be at least 12 letters, digits, - or _ (and not the example value)" >&2
    exit 1
  fi
done

MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql --protocol=socket -uroot <<SQL
CREATE USER IF NOT EXISTS 'mymonit_migrate'@'%' IDENTIFIED BY '${MYSQL_MIGRATE_PASSWORD}';
GRANT ALL PRIVILEGES ON \`${db}\`.* TO 'mymonit_migrate'@'%';

CREATE USER IF NOT EXISTS 'mymonit_api'@'%' IDENTIFIED BY '${MYSQL_API_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db}\`.* TO 'mymonit_api'@'%';

CREATE USER IF NOT EXISTS 'mymonit_ingest'@'%' IDENTIFIED BY '${MYSQL_INGEST_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db}\`.* TO 'mymonit_ingest'@'%';

-- The audit shipper reads audit_events and records their shipping state; table-level grants
-- need the table to exist, which it does not before the first migration.
CREATE USER IF NOT EXISTS 'mymonit_audit'@'%' IDENTIFIED BY '${MYSQL_AUDIT_PASSWORD}';
GRANT SELECT, UPDATE ON \`${db}\`.* TO 'mymonit_audit'@'%';
SQL
echo "10-mymonit-users: created the MyMONIT service accounts"
