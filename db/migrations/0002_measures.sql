-- Measures and the messages ingest could not store.
--
-- The primary key is the idempotency key (DESIGN §3.1) ordered for the two hot paths: batched
-- upserts arrive roughly in time order per experiment, so they append near the right edge of the
-- clustered index; time-range reads of one experiment are one clustered range scan in timestamp
-- order. The secondary key serves reads of one experiment and one measure type.
-- No foreign keys: they would cost a lookup per row on the hot insert path; ingest resolves names
-- to ids from the parent tables, and experiments and measure types are never deleted.
CREATE TABLE measures (
  experiment_id   INT UNSIGNED      NOT NULL,
  ts              DATETIME(6)       NOT NULL,
  measure_type_id SMALLINT UNSIGNED NOT NULL,
  source          VARCHAR(64)       NOT NULL DEFAULT '',
  value           DOUBLE            NOT NULL,
  PRIMARY KEY (experiment_id, ts, measure_type_id, source),
  KEY measures_experiment_type_ts (experiment_id, measure_type_id, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE rejected_measures (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  received_at  DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  reason       VARCHAR(32)     NOT NULL,
  detail       VARCHAR(2048)   NOT NULL,
  message_id   VARCHAR(255)    NULL,
  raw          MEDIUMTEXT      NOT NULL,
  PRIMARY KEY (id),
  KEY rejected_measures_received (received_at),
  KEY rejected_measures_reason (reason, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
