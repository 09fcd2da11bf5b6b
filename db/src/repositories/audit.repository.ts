import { execute, selectRows } from './queryable';
import type { Queryable } from './queryable';
import type { AuditOutcome, AuditQuery, AuditRecord, NewAuditEvent } from './records';

/** An audit_events row as selected by this repository and by the audit outbox. */
export interface AuditRow {
  id: number | string;
  occurred_at: string;
  actor_id: string | null;
  actor_uid: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: AuditOutcome;
  ip: string | null;
  request_id: string | null;
  details: string | null;
}

const MAX_DETAILS_CHARS = 60_000;

function clip(v: string | null, max: number): string | null {
  return v === null ? null : v.slice(0, max);
}

export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  /** Call on the transaction's connection, so the event commits or rolls back with the change. */
  async insert(e: NewAuditEvent): Promise<void> {
    let details = e.details === null ? null : JSON.stringify(e.details);
    if (details !== null && details.length > MAX_DETAILS_CHARS) {
      details = JSON.stringify({ truncated: true, preview: details.slice(0, 1000) });
    }
    await execute(
      this.db,
      `INSERT INTO audit_events (actor_id, actor_uid, action, target_type, target_id, outcome, ip, request_id, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        clip(e.actorId, 32),
        clip(e.actorUid, 128),
        e.action.slice(0, 64),
        clip(e.targetType, 32),
        clip(e.targetId, 255),
        e.outcome,
        clip(e.ip, 64),
        clip(e.requestId, 64),
        details,
      ],
    );
  }

  /** Newest first, keyed by id. */
  async page(q: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.actorId !== undefined) {
      where.push('actor_id = ?');
      params.push(q.actorId);
    }
    if (q.action !== undefined) {
      where.push('action = ?');
      params.push(q.action);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    params.push(q.limit);
    const rows = await selectRows<AuditRow>(
      this.db,
      `SELECT id, occurred_at, actor_id, actor_uid, action, target_type, target_id, outcome, ip, request_id, details
       FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({ ...auditFields(r), details: parseDetails(r.details) }));
  }
}

/** The columns every reader of audit_events maps the same way; details are the reader's own. */
export function auditFields(r: AuditRow): Omit<AuditRecord, 'details'> {
  return {
    id: String(r.id),
    occurredAt: r.occurred_at,
    actorId: r.actor_id,
    actorUid: r.actor_uid,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    ip: r.ip,
    requestId: r.request_id,
  };
}

function parseDetails(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsable: text.slice(0, 1000) };
  }
}
