import { retryForever } from '../../services/shared/backoff';
import type { Measure } from '../../services/shared/measure-contract';
import type { Journal, JournalRecord, Position } from './journal';
import { NackedError, UnroutableError } from './publisher';
import type { PublishOptions } from './publisher';

/**
 * Moves journal records to the broker: reads them in order, publishes them with confirms (a
 * MeasurePublisher: persistent, mandatory, a return counts as a failure), and moves the journal's
 * checkpoint only past records whose every message is confirmed, in journal order even though
 * several messages are in flight. On any failure (connection lost, nack, return) it waits for the
 * messages still in flight, closes the connection, and starts again from the first unconfirmed
 * record on a new connection, with capped exponential backoff while the broker stays away. A
 * restart does the same from the saved checkpoint. Delivery is therefore at least once; message
 * ids name the journal range they carry, so a replay shows as a repeated id, and the ingest side
 * stores a repeated measure over itself (DESIGN §3.1).
 */

/** What the forwarder needs of a MeasurePublisher. */
export interface MessagePublisher {
  readonly open: boolean;
  readonly maxMeasuresPerMessage: number;
  publish(measures: readonly Measure[], opts: PublishOptions): Promise<void>;
  close(): Promise<void>;
}

export interface ForwarderLog {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** Callbacks for metrics; each is optional. */
export interface ForwarderObserver {
  connected?(): void;
  disconnected?(): void;
  published?(messages: number, measures: number): void;
  confirmed?(messages: number, measures: number): void;
  returned?(): void;
  nacked?(): void;
}

export interface ForwarderOptions {
  /** Messages published and not yet past the checkpoint before reading pauses (default 16). */
  readonly maxInFlight?: number;
  /** Backoff between failed connection attempts (defaults 200 ms doubling up to 10 s). */
  readonly reconnectStartMs?: number;
  readonly reconnectMaxMs?: number;
  readonly log?: ForwarderLog;
  readonly observer?: ForwarderObserver;
}

export interface OutgoingMessage {
  readonly messageId: string;
  readonly measures: readonly Measure[];
  /** Where the checkpoint may move once this message and all before it are confirmed. */
  readonly advanceTo: Position | undefined;
}

/**
 * Groups consecutive records of one segment into messages of at most maxMeasures (never splitting
 * a record that fits) and splits a bigger record into parts. The id names the journal, segment and
 * byte range, plus the part for a split record:
 * `<journal>:<segment>:<start>-<end>` or `<journal>:<segment>:<start>-<end>:<part>/<parts>`.
 */
export function messagesFor(journalId: string, records: readonly JournalRecord[], maxMeasures: number): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  let group: JournalRecord[] = [];
  let groupMeasures = 0;
  const flush = (): void => {
    if (group.length === 0) return;
    const first = group[0];
    const last = group[group.length - 1];
    out.push({
      messageId: `${journalId}:${first.start.segment}:${first.start.offset}-${last.end.offset}`,
      measures: group.length === 1 ? first.measures : group.flatMap((r) => r.measures),
      advanceTo: last.end,
    });
    group = [];
    groupMeasures = 0;
  };
  for (const rec of records) {
    if (rec.measures.length > maxMeasures) {
      flush();
      const parts = Math.ceil(rec.measures.length / maxMeasures);
      for (let p = 0; p < parts; p++) {
        out.push({
          messageId: `${journalId}:${rec.start.segment}:${rec.start.offset}-${rec.end.offset}:${p + 1}/${parts}`,
          measures: rec.measures.slice(p * maxMeasures, (p + 1) * maxMeasures),
          advanceTo: p === parts - 1 ? rec.end : undefined,
        });
      }
      continue;
    }
    const sameSegment = group.length === 0 || group[0].start.segment === rec.start.segment;
    if (!sameSegment || groupMeasures + rec.measures.length > maxMeasures) flush();
    group.push(rec);
    groupMeasures += rec.measures.length;
  }
  flush();
  return out;
}

interface InFlight {
  readonly message: OutgoingMessage;
  confirmed: boolean;
}

interface PumpOutcome {
  /** Whether any message was confirmed on this connection. */
  readonly progressed: boolean;
  /** Why the connection was given up; undefined when the forwarder was stopped. */
  readonly error: unknown;
}

class StoppedError extends Error {
  constructor() {
    super('the forwarder is stopping');
    this.name = 'StoppedError';
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Forwarder {
  private stopping = false;
  private readonly stopController = new AbortController();
  private publisher: MessagePublisher | undefined;
  private pumping: Promise<PumpOutcome> | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxInFlight: number;

  constructor(
    private readonly journal: Journal,
    /** Opens a connection to the broker (MeasurePublisher.connect). */
    private readonly connect: () => Promise<MessagePublisher>,
    private readonly opts: ForwarderOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 16;
  }

  /** Whether a broker connection is up. */
  get connected(): boolean {
    return this.publisher?.open ?? false;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves when the forwarding loop has ended after stop() (for tests). */
  get stopped(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /**
   * Stops reading, waits (up to graceMs) for the confirms of the messages in flight, moving the
   * checkpoint for them, and closes the connection. Does not wait for a reconnection delay to run
   * out. Whatever is still unconfirmed stays in the journal and is sent again after a restart.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.pumping, grace]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await retryForever(() => this.session(), {
          startingDelayMs: this.opts.reconnectStartMs ?? 200,
          maxDelayMs: this.opts.reconnectMaxMs ?? 10_000,
          shouldRetry: (err, attempt) => {
            if (this.stopping || err instanceof StoppedError) return false;
            this.opts.log?.warn('forwarder: broker unavailable, retrying', { attempt, err: describe(err) });
            return true;
          },
        });
      } catch (err) {
        if (!(err instanceof StoppedError) && !this.stopping) {
          this.opts.log?.error('forwarder: giving up a retry loop', { err: describe(err) });
        }
      }
    }
  }

  /**
   * One connection's life. Returns after a failure that came after some progress (so the next
   * connection is tried at once); throws when nothing got through, so the backoff grows.
   */
  private async session(): Promise<void> {
    if (this.stopping) throw new StoppedError();
    const publisher = await this.connect();
    if (this.stopping) {
      await publisher.close().catch(() => undefined);
      throw new StoppedError();
    }
    this.publisher = publisher;
    this.opts.observer?.connected?.();
    this.opts.log?.info('forwarder: connected to the broker', { from: this.journal.confirmedPosition });
    this.pumping = this.pump(publisher);
    let outcome: PumpOutcome;
    try {
      outcome = await this.pumping;
    } finally {
      this.publisher = undefined;
      this.opts.observer?.disconnected?.();
      await publisher.close().catch(() => undefined);
    }
    if (outcome.error === undefined) throw new StoppedError();
    if (outcome.progressed) {
      this.opts.log?.warn('forwarder: connection failed, resending from the checkpoint', {
        err: describe(outcome.error),
        from: this.journal.confirmedPosition,
      });
      return;
    }
    throw outcome.error instanceof Error ? outcome.error : new Error(describe(outcome.error));
  }

  /** Publishes from the checkpoint on until stopped or a publish fails; waits for every confirm. */
  private async pump(publisher: MessagePublisher): Promise<PumpOutcome> {
    const ordered: InFlight[] = [];
    const unsettled = new Set<Promise<void>>();
    const failed = new AbortController();
    let failure: unknown;
    let progressed = false;
    const until = AbortSignal.any([failed.signal, this.stopController.signal]);
    const aborted = new Promise<void>((resolve) => until.addEventListener('abort', () => resolve(), { once: true }));
    const onSettled = (entry: InFlight, err: unknown): void => {
      if (err !== undefined) {
        if (err instanceof UnroutableError) this.opts.observer?.returned?.();
        else if (err instanceof NackedError) this.opts.observer?.nacked?.();
        if (failure === undefined) {
          failure = err;
          failed.abort();
        }
        return;
      }
      entry.confirmed = true;
      this.opts.observer?.confirmed?.(1, entry.message.measures.length);
      // The checkpoint moves over the confirmed prefix only: a confirm that overtakes an earlier
      // message must not let a crash skip that one.
      let advanceTo: Position | undefined;
      while (ordered.length > 0 && ordered[0].confirmed) {
        advanceTo = ordered.shift()?.message.advanceTo ?? advanceTo;
      }
      if (advanceTo) {
        progressed = true;
        this.journal.confirm(advanceTo);
      }
    };

    let next = this.journal.confirmedPosition;
    try {
      while (!until.aborted) {
        if (ordered.length >= this.maxInFlight) {
          await Promise.race([...unsettled, aborted]);
          continue;
        }
        const records = await this.journal.read(next, publisher.maxMeasuresPerMessage);
        if (records.length === 0) {
          await this.journal.waitForData(next, until);
          continue;
        }
        if (until.aborted) break;
        const messages = messagesFor(this.journal.id, records, publisher.maxMeasuresPerMessage);
        for (const message of messages) {
          const entry: InFlight = { message, confirmed: false };
          ordered.push(entry);
          const settled = publisher.publish(message.measures, { messageId: message.messageId }).then(
            () => onSettled(entry, undefined),
            (err: unknown) => onSettled(entry, err ?? new Error('publish failed')),
          );
          const tracked = settled.finally(() => unsettled.delete(tracked));
          unsettled.add(tracked);
        }
        this.opts.observer?.published?.(messages.length, messages.reduce((n, msg) => n + msg.measures.length, 0));
        next = records[records.length - 1].end;
      }
    } catch (err) {
      // Reading the journal failed: like a failed publish, retry from the checkpoint later.
      failure ??= err;
    }
    await Promise.allSettled([...unsettled]);
    return { progressed, error: failure };
  }
}
