import { selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { RejectionQuery, RejectionRecord } from './records';

interface RejectionRow {
  id: number | string;
  received_at: string;
  reason: string;
  detail: string;
  message_id: string | null;
  raw: string;
  raw_length: number;
}

/** Raw text returned per rejection in a listing; a rejection can hold up to 1 MiB. */
export const LISTED_RAW_CHARS = 64 * 1024;

export class RejectionRepository {
  constructor(private readonly db: Queryable) {}

  /** Newest first, keyed by id. */
  async page(q: RejectionQuery): Promise<RejectionRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [LISTED_RAW_CHARS];
    if (q.reason !== undefined) {
      where.push('reason = ?');
      params.push(q.reason);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    params.push(q.limit);
    const rows = await selectRows<RejectionRow>(
      this.db,
      `SELECT id, received_at, reason, detail, message_id, LEFT(raw, ?) AS raw, CHAR_LENGTH(raw) AS raw_length
       FROM rejected_measures ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: String(r.id),
      receivedAt: r.received_at,
      reason: r.reason,
      detail: r.detail,
      messageId: r.message_id,
      raw: r.raw,
      rawLength: Number(r.raw_length),
    }));
  }
}
