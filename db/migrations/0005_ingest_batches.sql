-- One row per batch ingest committed, written in the batch's own transaction. When a COMMIT's
-- reply is lost (connection cut mid-commit) ingest cannot know whether the batch was stored; before
-- retrying it looks here, so rejection rows (which have no natural key) are never written twice.
-- Rows older than a day are purged by ingest.
CREATE TABLE ingest_batches (
  id            CHAR(36)    CHARACTER SET ascii NOT NULL,
  committed_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ingest_batches_committed (committed_at)
) ENGINE=InnoDB;
