-- Shipping state of audit_events, kept by the audit shipper (services/audit-shipper/README.md).
--
-- Replicas claim rows with a lease instead of SELECT … FOR UPDATE SKIP LOCKED: TiDB parses SKIP
-- LOCKED but does not lock, so two replicas would both send the same rows. A claim is an
-- autocommitted UPDATE by primary key that re-checks each row is still free, which MariaDB, MySQL
-- and TiDB all run atomically per row.
--   claimed_by, claimed_until  the replica holding the row and until when (database clock)
--   ship_attempts, ship_error  failed sends so far and the last reason, for operators
--   parked_at                  Elasticsearch refused the document itself (a 4xx such as a mapping
--                              error): never retried until an operator clears it, so it does not
--                              block the rows behind it
-- A row is pending while shipped_at IS NULL AND parked_at IS NULL; audit_events_pending serves the
-- claim in id order and supersedes audit_events_unshipped.
ALTER TABLE audit_events
  ADD COLUMN claimed_by    VARCHAR(64)   NULL,
  ADD COLUMN claimed_until DATETIME(6)   NULL,
  ADD COLUMN ship_attempts INT UNSIGNED  NOT NULL DEFAULT 0,
  ADD COLUMN ship_error    VARCHAR(1024) NULL,
  ADD COLUMN parked_at     DATETIME(6)   NULL,
  ADD KEY audit_events_pending (shipped_at, parked_at, id),
  DROP KEY audit_events_unshipped;
