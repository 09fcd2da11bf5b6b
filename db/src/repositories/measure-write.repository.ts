import { escape } from 'mysql2';
import type { Pool, PoolConnection } from '../pool';

export interface MeasureRow {
  readonly experimentId: number;
  readonly measureTypeId: number;
  readonly source: string;
  /** MySQL DATETIME(6) text, UTC. */
  readonly ts: string;
  readonly value: number;
}

export interface RejectionRow {
  readonly reason: string;
  readonly detail: string;
  readonly raw: string;
  readonly messageId: string | undefined;
}

/** Rows per INSERT statement: large enough to amortise round trips, small enough for max_allowed_packet. */
const ROWS_PER_STATEMENT = 5000;

/**
 * Multi-row upsert of measures. Last write wins on the idempotency key, so a redelivered message
 * rewrites the same rows instead of adding new ones. VALUES() in ON DUPLICATE KEY UPDATE is the one
 * spelling MariaDB, MySQL 8 and TiDB all accept.
 *
 * Rows must already be sorted by key (callers sort to keep lock order stable across concurrent
 * writers, which avoids deadlocks). The SQL is built here rather than with `?` placeholders because
 * formatting thousands of placeholders is the most expensive step of a batch; every value is either
 * a number checked to be finite, a fixed-format timestamp, or passed through the driver's escape().
 */
export async function upsertMeasures(conn: PoolConnection, rows: readonly MeasureRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const end = Math.min(rows.length, start + ROWS_PER_STATEMENT);
    const parts: string[] = [];
    for (let i = start; i < end; i++) {
      const r = rows[i];
      if (!Number.isFinite(r.value) || !Number.isInteger(r.experimentId) || !Number.isInteger(r.measureTypeId)) {
        throw new TypeError('measure row with a non-finite value or a non-integer id');
      }
      if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/.test(r.ts)) throw new TypeError(`bad timestamp ${r.ts}`);
      parts.push(`(${r.experimentId},'${r.ts}',${r.measureTypeId},${r.source === '' ? "''" : escape(r.source)},${r.value})`);
    }
    await conn.query(
      `INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ${parts.join(',')} ` +
        'ON DUPLICATE KEY UPDATE value = VALUES(value)',
    );
  }
}

/** Bytes of rejection payload per INSERT, well under the smallest default max_allowed_packet (16 MiB). */
const REJECTION_BYTES_PER_STATEMENT = 4 << 20;

export async function insertRejections(conn: PoolConnection, rows: readonly RejectionRow[]): Promise<void> {
  let chunk: unknown[][] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await conn.query('INSERT INTO rejected_measures (reason, detail, raw, message_id) VALUES ?', [chunk]);
    chunk = [];
    bytes = 0;
  };
  for (const r of rows) {
    if (bytes + r.raw.length > REJECTION_BYTES_PER_STATEMENT) await send();
    chunk.push([r.reason, r.detail.slice(0, 2048), r.raw, r.messageId?.slice(0, 255) ?? null]);
    bytes += r.raw.length + r.detail.length;
  }
  await send();
}

export async function markBatchCommitted(conn: PoolConnection, batchId: string): Promise<void> {
  await conn.query('INSERT INTO ingest_batches (id) VALUES (?)', [batchId]);
}

export async function batchCommitted(pool: Pool, batchId: string): Promise<boolean> {
  const [rows] = await pool.query('SELECT 1 AS found FROM ingest_batches WHERE id = ?', [batchId]);
  return (rows as unknown[]).length > 0;
}

export async function purgeBatchMarkers(pool: Pool): Promise<void> {
  await pool.query('DELETE FROM ingest_batches WHERE committed_at < NOW(6) - INTERVAL 1 DAY LIMIT 10000');
}
