import { selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { Connection as CoreConnection } from 'mysql2';
import type { PoolConnection } from '../pool';
import type { MeasureQuery, MeasureRecord, MeasureStreamQuery } from './records';

interface MeasureRow {
  ts: string;
  measure_type_id: number;
  measure_type: string;
  experiment: string;
  source: string;
  value: number;
}

/**
 * Builds the keyset query for one page of an experiment's measures in primary-key order
 * (ts, measure_type_id, source). The cursor condition is spelled out rather than written as a row
 * comparison `(a, b, c) > (?, ?, ?)`, which not every engine turns into an index range; the extra
 * `ts >= ?` gives the range optimiser a bound on the leading column.
 */
export function buildMeasurePageSql(q: MeasureQuery | MeasureStreamQuery): { sql: string; params: unknown[] } {
  const where = ['m.experiment_id = ?'];
  const params: unknown[] = [q.experimentId];
  if (q.measureTypeId !== undefined) {
    where.push('m.measure_type_id = ?');
    params.push(q.measureTypeId);
  }
  if (q.source !== undefined) {
    where.push('m.source = ?');
    params.push(q.source);
  }
  if (q.from !== undefined) {
    where.push('m.ts >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('m.ts < ?');
    params.push(q.to);
  }
  if (q.after) {
    const a = q.after;
    where.push(
      'm.ts >= ? AND (m.ts > ? OR (m.ts = ? AND (m.measure_type_id > ? OR (m.measure_type_id = ? AND m.source > ?))))',
    );
    params.push(a.ts, a.ts, a.ts, a.measureTypeId, a.measureTypeId, a.source);
  }
  const sql =
    'SELECT m.ts, m.measure_type_id, t.name AS measure_type, e.name AS experiment, m.source, m.value\n' +
    'FROM measures m\n' +
    'JOIN measure_types t ON t.id = m.measure_type_id\n' +
    'JOIN experiments e ON e.id = m.experiment_id\n' +
    `WHERE ${where.join('\n  AND ')}\n` +
    'ORDER BY m.ts, m.measure_type_id, m.source' +
    (q.limit === undefined ? '' : '\nLIMIT ?');
  if (q.limit !== undefined) params.push(q.limit);
  return { sql, params };
}

function toRecord(r: MeasureRow): MeasureRecord {
  return {
    ts: r.ts,
    measureTypeId: Number(r.measure_type_id),
    measureTypeName: r.measure_type,
    experimentName: r.experiment,
    source: r.source,
    value: Number(r.value),
  };
}

/** Rows buffered between the server and a slow reader; the socket is paused beyond this. */
const STREAM_HIGH_WATER_MARK = 1000;

export class MeasureReadRepository {
  constructor(private readonly db: Queryable) {}

  async page(q: MeasureQuery): Promise<MeasureRecord[]> {
    const { sql, params } = buildMeasurePageSql(q);
    const rows = await selectRows<MeasureRow>(this.db, sql, params);
    return rows.map(toRecord);
  }
}

/**
 * Every matching row, read as the consumer pulls: mysql2's row stream pauses the socket when its
 * buffer is full, so memory stays flat however large the result. Needs a connection of its own
 * for the whole read. Stopping early (break, return, or the signal) destroys the stream; the
 * caller must then destroy the connection, whose protocol state is mid-result (see
 * MysqlDatabase.streamMeasures, which also kills the query on the server).
 */
export async function* streamMeasures(
  conn: PoolConnection,
  q: MeasureStreamQuery,
  signal?: AbortSignal,
): AsyncGenerator<MeasureRecord> {
  const { sql, params } = buildMeasurePageSql(q);
  // Row streams exist on the callback API only; the promise wrapper's `connection` is that core
  // connection at run time, though mysql2's typings call it a promise Connection.
  const core = conn.connection as unknown as CoreConnection;
  const rows = core.query(sql, params).stream({ highWaterMark: STREAM_HIGH_WATER_MARK });
  const onAbort = (): void => {
    rows.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const r of rows) yield toRecord(r as MeasureRow);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    rows.destroy();
  }
}
