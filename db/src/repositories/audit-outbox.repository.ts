import type { Connection } from 'mysql2/promise';
import type { Pool } from '../pool';
import { auditFields } from './audit.repository';
import type { AuditRow } from './audit.repository';
import { execute, selectRows } from './queryable';

/**
 * audit_events as an outbox for the audit shipper (migration 0010).
 *
 * Replicas share the table through leases: claim() marks up to n pending rows, in id order, as held
 * by one owner until a database-clock deadline; only the holder marks them shipped, failed or
 * parked, and every such update checks that it still holds the row. A replica that dies leaves its
 * rows to others once the lease runs out, or at once to its successor under the same owner name.
 * Every statement is one autocommitted statement: no transaction stays open across a network call
 * to Elasticsearch.
 */

export interface OutboxEvent {
  readonly id: string;
  /** UTC, 'YYYY-MM-DD HH:MM:SS.ffffff'. */
  readonly occurredAt: string;
  readonly actorId: string | null;
  readonly actorUid: string | null;
  readonly action: string;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly outcome: string;
  readonly ip: string | null;
  readonly requestId: string | null;
  /** JSON text as the API stored it. */
  readonly details: string | null;
  /** Failed sends before this one. */
  readonly shipAttempts: number;
}

export interface OutboxFailure {
  readonly id: string;
  readonly reason: string;
}

export interface OutboxBacklog {
  /** Pending rows, counted up to the cap given to backlog(). */
  readonly pending: number;
  /** Age of the oldest pending row; undefined when nothing is pending. */
  readonly oldestPendingSeconds: number | undefined;
  readonly parked: number;
}

interface OutboxRow extends AuditRow {
  ship_attempts: number;
}

const PENDING = 'shipped_at IS NULL AND parked_at IS NULL';
/** Free, held by the given owner (one parameter), or its lease is over. */
const CLAIMABLE = '(claimed_by = ? OR claimed_until IS NULL OR claimed_until < NOW(6))';
const MAX_REASON_CHARS = 1024;

export class AuditOutboxRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Claims (or renews) up to `limit` pending rows for `owner` and returns the rows it holds, lowest
   * id first. Rows already held by the same owner come back first, so a restarted shipper resumes
   * where its predecessor stopped.
   */
  async claim(owner: string, limit: number, leaseSeconds: number): Promise<OutboxEvent[]> {
    // Candidates first, with a plain read along audit_events_pending in id order; then the claim
    // proper, by primary key, re-checking each row. Two replicas reading the same candidates race
    // only on that UPDATE, which gives every row to one of them. (A single UPDATE … ORDER BY id
    // LIMIT n makes MariaDB sort the whole pending range, and takes gap locks that would make the
    // API's audit inserts wait.)
    const candidates = await selectRows<{ id: number | string }>(
      this.pool,
      `SELECT id FROM audit_events
        WHERE ${PENDING} AND ${CLAIMABLE}
        ORDER BY id
        LIMIT ?`,
      [owner, limit],
    );
    if (candidates.length === 0) return [];
    const ids = candidates.map((c) => String(c.id));
    await execute(
      this.pool,
      `UPDATE audit_events SET claimed_by = ?, claimed_until = DATE_ADD(NOW(6), INTERVAL ? SECOND)
        WHERE id IN (?) AND ${PENDING} AND ${CLAIMABLE}`,
      [owner, leaseSeconds, ids, owner],
    );
    const rows = await selectRows<OutboxRow>(
      this.pool,
      `SELECT id, occurred_at, actor_id, actor_uid, action, target_type, target_id, outcome, ip, request_id, details, ship_attempts
         FROM audit_events
        WHERE id IN (?) AND ${PENDING} AND claimed_by = ?
        ORDER BY id`,
      [ids, owner],
    );
    return rows.map((r) => ({ ...auditFields(r), details: r.details, shipAttempts: Number(r.ship_attempts) }));
  }

  /** Marks rows stored by Elasticsearch; returns how many this owner still held. */
  async markShipped(owner: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { affectedRows } = await execute(
      this.pool,
      `UPDATE audit_events
          SET shipped_at = NOW(6), claimed_by = NULL, claimed_until = NULL, ship_error = NULL
        WHERE id IN (?) AND claimed_by = ? AND shipped_at IS NULL`,
      [ids, owner],
    );
    return affectedRows;
  }

  /** Counts a failed attempt; the owner keeps the rows and sends them again first. */
  async recordFailures(owner: string, failures: readonly OutboxFailure[]): Promise<void> {
    for (const [reason, ids] of groupByReason(failures)) {
      await execute(
        this.pool,
        `UPDATE audit_events SET ship_attempts = ship_attempts + 1, ship_error = ?
          WHERE id IN (?) AND claimed_by = ? AND shipped_at IS NULL`,
        [reason, ids, owner],
      );
    }
  }

  /** Sets rows aside for good (until an operator clears parked_at), with the reason. */
  async park(owner: string, failures: readonly OutboxFailure[]): Promise<number> {
    let parked = 0;
    for (const [reason, ids] of groupByReason(failures)) {
      const { affectedRows } = await execute(
        this.pool,
        `UPDATE audit_events
            SET parked_at = NOW(6), ship_attempts = ship_attempts + 1, ship_error = ?, claimed_by = NULL, claimed_until = NULL
          WHERE id IN (?) AND claimed_by = ? AND shipped_at IS NULL`,
        [reason, ids, owner],
      );
      parked += affectedRows;
    }
    return parked;
  }

  /** Gives back every row the owner holds, so other replicas need not wait for the lease to end. */
  async release(owner: string): Promise<void> {
    await execute(
      this.pool,
      `UPDATE audit_events SET claimed_by = NULL, claimed_until = NULL WHERE ${PENDING} AND claimed_by = ?`,
      [owner],
    );
  }

  async backlog(pendingCap: number): Promise<OutboxBacklog> {
    const [pending] = await selectRows<{ n: number | string }>(
      this.pool,
      `SELECT COUNT(*) AS n FROM (SELECT id FROM audit_events WHERE ${PENDING} LIMIT ?) AS p`,
      [pendingCap],
    );
    const [oldest] = await selectRows<{ age_us: number | string }>(
      this.pool,
      `SELECT TIMESTAMPDIFF(MICROSECOND, occurred_at, NOW(6)) AS age_us FROM audit_events WHERE ${PENDING} ORDER BY id LIMIT 1`,
    );
    const [parked] = await selectRows<{ n: number | string }>(
      this.pool,
      // Parked rows are never shipped: this is a range of audit_events_pending.
      'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NULL AND parked_at IS NOT NULL',
    );
    return {
      pending: Number(pending?.n ?? 0),
      oldestPendingSeconds: oldest === undefined ? undefined : Math.max(0, Number(oldest.age_us) / 1e6),
      parked: Number(parked?.n ?? 0),
    };
  }
}

function groupByReason(failures: readonly OutboxFailure[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const f of failures) {
    const reason = f.reason.slice(0, MAX_REASON_CHARS);
    const ids = groups.get(reason) ?? [];
    ids.push(f.id);
    groups.set(reason, ids);
  }
  return groups;
}

/**
 * A MySQL named lock held on a connection of its own for as long as the process runs. The server
 * frees it the moment that connection closes, including when the process is killed, so a
 * successor can take over at once. Used to keep one live process per shipper owner name.
 */
export class SessionLock {
  private conn: Connection | undefined;

  constructor(
    private readonly open: () => Promise<Connection>,
    readonly name: string,
  ) {}

  /**
   * True when this process holds the lock, taking it if it is free; false when another session
   * holds it. Also detects a lost connection (and with it the lock) and tries to take it again.
   */
  async hold(): Promise<boolean> {
    if (this.conn) {
      try {
        await this.conn.query('SELECT 1');
        return true;
      } catch {
        this.drop();
      }
    }
    const conn = await this.open();
    conn.on('error', () => {
      if (this.conn === conn) this.drop();
    });
    try {
      const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got', [this.name]);
      if ((rows as Array<{ got: number | null }>)[0]?.got === 1) {
        this.conn = conn;
        return true;
      }
    } catch (err) {
      conn.destroy();
      throw err;
    }
    await conn.end().catch(() => conn.destroy());
    return false;
  }

  async release(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    try {
      await conn.query('SELECT RELEASE_LOCK(?)', [this.name]);
      await conn.end();
    } catch {
      conn.destroy();
    }
  }

  private drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}
