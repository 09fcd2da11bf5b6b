import { inject, injectable } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { AuditOutboxRepository, SessionLock } from '../../db/src/repositories/audit-outbox.repository';
import type { Logger } from '../shared/logger';
import type { Readiness } from '../shared/ops-server';
import { TOKENS } from '../shared/tokens';
import { SinkError } from './audit-sink';
import type { AuditSink, ItemResult } from './audit-sink';
import { AuditShipperMetrics } from './audit-shipper-metrics';

export type AuditOutbox = Pick<AuditOutboxRepository, 'claim' | 'markShipped' | 'recordFailures' | 'park' | 'release' | 'backlog'>;
export type OwnerLock = Pick<SessionLock, 'hold' | 'release'>;

export interface AuditShipperOptions {
  /** Name under which this replica claims rows; one live process per name (see OwnerLock). */
  readonly owner: string;
  readonly batchSize: number;
  readonly leaseSeconds: number;
  /** Wait between rounds when there was nothing (or less than a batch) to ship. */
  readonly pollMs: number;
  /** Longest wait between attempts while Elasticsearch or MySQL fail. */
  readonly maxBackoffMs: number;
}

export const AUDIT_OUTBOX: InjectionToken<AuditOutbox> = Symbol('AuditOutbox');
export const AUDIT_SINK: InjectionToken<AuditSink> = Symbol('AuditSink');
export const OWNER_LOCK: InjectionToken<OwnerLock> = Symbol('OwnerLock');
export const SHIPPER_OPTIONS: InjectionToken<AuditShipperOptions> = Symbol('AuditShipperOptions');

const STARTING = 'starting';
const FIRST_BACKOFF_MS = 250;
const BACKLOG_EVERY_MS = 5_000;
const PENDING_COUNT_CAP = 1_000_000;

/**
 * Moves audit_events rows to the sink: claim a batch in id order, send it, then record each row's
 * fate. A row is marked shipped only after the sink reported that very item stored; everything
 * else stays pending (retried, with capped backoff while the sink or the database is away) or is
 * parked with its reason when the sink refuses the document itself.
 */
@injectable()
export class AuditShipper implements Readiness {
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private prepared = false;
  /** Why the shipper is not ready; undefined when it is. */
  private problem: string | undefined = STARTING;
  private failures = 0;
  private backlogAt = 0;

  constructor(
    @inject(AUDIT_OUTBOX) private readonly outbox: AuditOutbox,
    @inject(AUDIT_SINK) private readonly sink: AuditSink,
    @inject(OWNER_LOCK) private readonly lock: OwnerLock,
    @inject(SHIPPER_OPTIONS) private readonly options: AuditShipperOptions,
    @inject(AuditShipperMetrics) private readonly metrics: AuditShipperMetrics,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  notReadyReason(): string | undefined {
    return this.problem;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Finishes the round in progress, gives back the rows still claimed, frees the owner name. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    await this.outbox.release(this.options.owner).catch((err: unknown) => {
      this.logger.warn('could not release claimed audit events; they return to the pool when the lease ends', { err });
    });
    await this.lock.release();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let pauseMs: number;
      try {
        pauseMs = await this.round();
      } catch (err) {
        this.failures++;
        pauseMs = this.backoffMs();
        const reason = err instanceof Error ? err.message : String(err);
        // One line per new problem, not one per attempt: an outage of hours must not flood the logs.
        if (reason !== this.problem) this.logger.warn('audit shipping paused', { reason, retryInMs: Math.round(pauseMs) });
        this.problem = reason;
      }
      await this.refreshBacklog();
      await this.sleep(pauseMs);
    }
  }

  /** One claim-send-record round; returns how long to wait before the next. */
  private async round(): Promise<number> {
    const { owner, batchSize, leaseSeconds, pollMs } = this.options;
    if (!(await this.lock.hold())) {
      this.setProblem(`standby: another process ships as ${owner}`);
      return pollMs;
    }
    if (!this.prepared) {
      await this.sink.prepare();
      this.prepared = true;
      this.logger.info('audit index template installed');
    }
    const events = await this.outbox.claim(owner, batchSize, leaseSeconds);
    if (events.length === 0) {
      this.recovered();
      return pollMs;
    }

    let results: ItemResult[];
    const endTimer = this.metrics.bulkSeconds.startTimer();
    try {
      results = await this.sink.send(events);
    } catch (err) {
      if (err instanceof SinkError) {
        this.metrics.failed.inc({ kind: 'request' }, events.length);
        await this.outbox.recordFailures(owner, events.map((e) => ({ id: e.id, reason: err.message })));
      }
      throw err;
    } finally {
      endTimer();
    }

    const stored = results.filter((r) => r.result === 'stored').map((r) => r.id);
    const retry = results.flatMap((r) => (r.result === 'retry' ? [{ id: r.id, reason: r.reason }] : []));
    const rejected = results.flatMap((r) => (r.result === 'rejected' ? [{ id: r.id, reason: r.reason }] : []));

    // Shipped first: it is what matters most if the database goes away half-way through.
    const marked = await this.outbox.markShipped(owner, stored);
    this.metrics.shipped.inc(marked);
    if (marked < stored.length) {
      // Our lease ran out during the send and another replica took the rows: it sends them again
      // under the same _id, which rewrites the same documents.
      this.logger.warn('lease lost during a send; another replica ships those events again', { events: stored.length - marked });
    }
    if (rejected.length > 0) {
      const parked = await this.outbox.park(owner, rejected);
      this.metrics.parked.inc(parked);
      this.logger.error('Elasticsearch refused audit events; parked them (clear parked_at to send them again)', {
        events: rejected.slice(0, 20),
        parked,
      });
    }
    if (retry.length > 0) {
      this.metrics.failed.inc({ kind: 'item' }, retry.length);
      await this.outbox.recordFailures(owner, retry);
      this.logger.debug('Elasticsearch did not store some audit events; retrying', { events: retry.length, first: retry[0] });
      // The cluster pushes back (429) or lost shards: slow down, but the shipper works.
      this.failures++;
      this.problem = undefined;
      return this.backoffMs();
    }
    this.recovered();
    return events.length < batchSize ? pollMs : 0;
  }

  private recovered(): void {
    if (this.problem !== undefined && this.problem !== STARTING) this.logger.info('audit shipping resumed', { after: this.problem });
    this.problem = undefined;
    this.failures = 0;
  }

  private setProblem(reason: string): void {
    if (reason !== this.problem) this.logger.warn('audit shipping paused', { reason });
    this.problem = reason;
  }

  /** Capped exponential backoff with jitter, so replicas do not retry in lockstep. */
  private backoffMs(): number {
    const ceiling = Math.min(this.options.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** Math.min(this.failures - 1, 20));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async refreshBacklog(): Promise<void> {
    if (Date.now() - this.backlogAt < BACKLOG_EVERY_MS) return;
    this.backlogAt = Date.now();
    try {
      const b = await this.outbox.backlog(PENDING_COUNT_CAP);
      this.metrics.pending.set(b.pending);
      this.metrics.lagSeconds.set(b.oldestPendingSeconds ?? 0);
      this.metrics.parkedRows.set(b.parked);
    } catch {
      // Only metrics: the round reports database trouble.
    }
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }
}
