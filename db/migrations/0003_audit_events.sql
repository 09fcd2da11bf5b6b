-- Who did and read what. Written in the same transaction as the change it records; the audit
-- shipper sends rows with shipped_at NULL to Elasticsearch, the row id as document id.
CREATE TABLE audit_events (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  occurred_at  DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor_id     VARCHAR(32)     NULL,
  actor_uid    VARCHAR(128)    NULL,
  action       VARCHAR(64)     NOT NULL,
  target_type  VARCHAR(32)     NULL,
  target_id    VARCHAR(255)    NULL,
  outcome      VARCHAR(16)     NOT NULL,
  ip           VARCHAR(64)     NULL,
  request_id   VARCHAR(64)     NULL,
  details      TEXT            NULL,
  shipped_at   DATETIME(6)     NULL,
  PRIMARY KEY (id),
  KEY audit_events_unshipped (shipped_at, id),
  KEY audit_events_occurred (occurred_at),
  KEY audit_events_actor (actor_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
