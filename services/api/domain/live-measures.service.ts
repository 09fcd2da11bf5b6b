import { inject, injectable } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { MeasureKey, MeasureRecord } from '../../../db/src/repositories/records';
import { ServiceUnavailableError, TooManyRequestsError, UnauthorizedError } from '../../shared/errors';
import { microsToSql } from '../../shared/measure-contract';
import type { Actor, RequestMeta } from './actor';
import { auditEvent } from './actor';
import { CLOCK } from './clock';
import type { Clock } from './clock';
import { MeasureTypeIds } from './measure-type-ids';
import { DATABASE } from './ports';
import type { Database } from './ports';

export interface LiveStreamSettings {
  /** Pause after a poll that found nothing more to send. */
  readonly pollMs: number;
  /** A heartbeat is due after this long without any other event, so proxies keep the connection. */
  readonly heartbeatMs: number;
  /**
   * How often a stream authenticates its caller again (a revoked token or a removed user ends it)
   * and checks the association, idle or not; rows are never sent without an association check
   * made with them in hand.
   */
  readonly accessRecheckMs: number;
  /** Open streams per user in this process; one more is refused with 429. */
  readonly maxPerUser: number;
  /** Open streams in this process; each polls the database, so this bounds that load. */
  readonly maxTotal: number;
  /** Most rows one poll reads; a full batch is followed at once by the next poll (catching up). */
  readonly batchSize: number;
}

export const DEFAULT_LIVE_STREAM_SETTINGS: LiveStreamSettings = Object.freeze({
  pollMs: 1000,
  heartbeatMs: 15_000,
  accessRecheckMs: 15_000,
  maxPerUser: 5,
  maxTotal: 500,
  batchSize: 1000,
});

export const LIVE_STREAM_SETTINGS: InjectionToken<LiveStreamSettings> = Symbol('LiveStreamSettings');

export type LiveEndReason = 'token_expired' | 'token_revoked' | 'access_revoked' | 'shutdown';

/**
 * Authenticates the stream's caller again from the credentials it opened with (the route's
 * Authorization header): resolves with the actor, throws UnauthorizedError when the token was
 * revoked, the account disabled or the user removed, and any other error when that cannot be told
 * now (Firebase unreachable).
 */
export type Reauthenticate = () => Promise<Actor>;

export type LiveEvent =
  /** First event: where the stream starts (rows strictly after this key). */
  | { readonly kind: 'start'; readonly after: MeasureKey }
  /** New rows in key order; the last one's key is where a resumed stream continues. */
  | { readonly kind: 'measures'; readonly rows: readonly MeasureRecord[] }
  | { readonly kind: 'heartbeat' }
  /** Last event before the stream ends on the server's initiative. */
  | { readonly kind: 'end'; readonly reason: LiveEndReason };

export interface LiveFilter {
  readonly experimentId: number;
  /** Measure type name. */
  readonly measure?: string;
  readonly source?: string;
}

/**
 * A key before every row stamped at or after `ts`: measure type ids start at 1, so (ts, 0, '')
 * precedes them all. Used as the cursor of a stream that starts at an instant.
 */
export function keyBefore(ts: string): MeasureKey {
  return { ts, measureTypeId: 0, source: '' };
}

/**
 * Live measures of one experiment, found by polling the database (the API never reads from the
 * broker): a keyset read after the last key sent, in primary-key order (ts, measure type, source),
 * every pollMs. The cursor follows the measures' own timestamps, so a measure that arrives after
 * rows with later timestamps were sent (a device catching up, a slow ingest) is not sent; a
 * client that needs every row reads the range again with GET /measures.
 *
 * A stream ends when the client goes away, when the caller's token expires, when the caller is no
 * longer associated with the experiment (checked before any rows are sent, and every
 * accessRecheckMs), when the token is revoked or the user removed (every accessRecheckMs, when the
 * route passes a way to authenticate again), or when the process stops. It holds no connection
 * between polls.
 */
@injectable()
export class LiveMeasureService {
  private readonly perUser = new Map<string, number>();
  private total = 0;
  private readonly stopping = new AbortController();

  constructor(
    @inject(DATABASE) private readonly db: Database,
    @inject(MeasureTypeIds) private readonly types: MeasureTypeIds,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LIVE_STREAM_SETTINGS) private readonly settings: LiveStreamSettings,
  ) {}

  /** Streams open now in this process. */
  get openStreams(): number {
    return this.total;
  }

  /**
   * Checks the request, takes one of the caller's stream slots and audits the opening, all before
   * the first event, so a refusal is still an ordinary error response. The slot is given back
   * when the returned iterator finishes or is closed (return()), whether or not it was started.
   * `after` resumes after a key; without it the stream starts now.
   */
  async open(
    actor: Actor,
    meta: RequestMeta,
    f: LiveFilter,
    after: MeasureKey | undefined,
    signal: AbortSignal,
    reauthenticate?: Reauthenticate,
  ): Promise<AsyncIterableIterator<LiveEvent>> {
    if (this.stopping.signal.aborted) throw new ServiceUnavailableError('the server is shutting down; reconnect');
    const measureTypeId = await this.types.resolve(f.measure);
    const start = after ?? keyBefore(microsToSql(this.clock.now() * 1000));
    const release = this.acquire(actor.id);
    try {
      await this.db.stores.audit.insert(
        auditEvent(actor, meta, {
          action: 'measures.stream',
          targetType: 'experiment',
          targetId: f.experimentId,
          details: { filter: { measure: f.measure, source: f.source }, after: start, resumed: after !== undefined },
        }),
      );
    } catch (err) {
      release();
      throw err;
    }
    const events = this.follow(
      actor,
      { experimentId: f.experimentId, measureTypeId, source: f.source },
      start,
      AbortSignal.any([signal, this.stopping.signal]),
      reauthenticate,
    );
    return new Finally(events, release);
  }

  /** Ends every open stream (each sends an `end` event with reason shutdown) and refuses new ones. */
  close(): void {
    this.stopping.abort();
  }

  private acquire(userId: string): () => void {
    const mine = this.perUser.get(userId) ?? 0;
    if (mine >= this.settings.maxPerUser) {
      throw new TooManyRequestsError(`at most ${this.settings.maxPerUser} live streams per user; close one first`, this.settings.heartbeatMs / 1000);
    }
    if (this.total >= this.settings.maxTotal) {
      throw new TooManyRequestsError('too many live streams on this server; retry later', this.settings.heartbeatMs / 1000);
    }
    this.perUser.set(userId, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
    };
  }

  /**
   * The periodic check: the caller authenticated again (when the route can) and still associated.
   * Resolves with why the stream must end, 'retry' when it cannot be told now, or undefined.
   */
  private async recheck(actor: Actor, experimentId: number, reauthenticate: Reauthenticate | undefined): Promise<LiveEndReason | 'retry' | undefined> {
    if (reauthenticate) {
      try {
        const now = await reauthenticate();
        if (now.id !== actor.id || now.role !== actor.role) return 'access_revoked';
      } catch (err) {
        return err instanceof UnauthorizedError ? 'token_revoked' : 'retry';
      }
    }
    return (await this.db.stores.associations.exists(experimentId, actor.id)) ? undefined : 'access_revoked';
  }

  private async *follow(
    actor: Actor,
    q: { experimentId: number; measureTypeId?: number; source?: string },
    start: MeasureKey,
    signal: AbortSignal,
    reauthenticate: Reauthenticate | undefined,
  ): AsyncGenerator<LiveEvent> {
    const s = this.settings;
    yield { kind: 'start', after: start };
    let after = start;
    let lastEvent = this.clock.now();
    let lastAccessCheck = lastEvent;
    for (;;) {
      if (signal.aborted) {
        // The client went away: nobody to tell. The process is stopping: say so, so the client
        // reconnects (to another instance) rather than taking it for an error.
        if (this.stopping.signal.aborted) yield { kind: 'end', reason: 'shutdown' };
        return;
      }
      if (this.clock.now() >= actor.tokenExpiresAt) {
        yield { kind: 'end', reason: 'token_expired' };
        return;
      }
      // Fails closed: while the caller cannot be authenticated again, nothing is sent.
      let verified = true;
      if (this.clock.now() - lastAccessCheck >= s.accessRecheckMs) {
        const outcome = await this.recheck(actor, q.experimentId, reauthenticate);
        if (outcome === 'retry') verified = false;
        else if (outcome !== undefined) {
          yield { kind: 'end', reason: outcome };
          return;
        } else lastAccessCheck = this.clock.now();
      }
      const rows = verified ? await this.db.stores.measures.page({ ...q, after, limit: s.batchSize }) : [];
      if (signal.aborted) continue;
      if (rows.length > 0) {
        // No row leaves unless the caller is associated now, with the rows in hand: a scientist
        // removed from the experiment gets nothing stored after the removal, whatever the re-check
        // interval.
        if (!(await this.db.stores.associations.exists(q.experimentId, actor.id))) {
          yield { kind: 'end', reason: 'access_revoked' };
          return;
        }
        const last = rows[rows.length - 1];
        after = { ts: last.ts, measureTypeId: last.measureTypeId, source: last.source };
        yield { kind: 'measures', rows };
        lastEvent = this.clock.now();
        if (rows.length === s.batchSize) continue;
      } else if (this.clock.now() - lastEvent >= s.heartbeatMs) {
        yield { kind: 'heartbeat' };
        lastEvent = this.clock.now();
      }
      // Wake at the token's expiry rather than up to a poll interval after it.
      await this.clock.sleep(Math.max(0, Math.min(s.pollMs, actor.tokenExpiresAt - this.clock.now())), signal);
    }
  }
}

/**
 * An iterator that runs `onEnd` once when its source finishes, fails or is closed. Closing an async
 * generator that never started skips its finally blocks, so the generator cannot do this itself.
 */
class Finally<T> implements AsyncIterableIterator<T> {
  private ended = false;

  constructor(
    private readonly source: AsyncGenerator<T>,
    private readonly onEnd: () => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    try {
      const r = await this.source.next();
      if (r.done) this.end();
      return r;
    } catch (err) {
      this.end();
      throw err;
    }
  }

  async return(): Promise<IteratorResult<T>> {
    try {
      return await this.source.return(undefined);
    } finally {
      this.end();
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }
}
