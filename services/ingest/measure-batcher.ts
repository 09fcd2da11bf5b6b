import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { Delivery } from '../shared/amqp-consumer';
import { describe } from '../shared/amqp-consumer';
import { retryForever } from '../shared/backoff';
import type { Logger } from '../shared/logger';
import { decodeMeasureMessage } from '../shared/measure-contract';
import { TOKENS } from '../shared/tokens';
import { IngestMetrics } from './ingest-metrics';
import { BATCH_SINK } from './measure-writer';
import type { BatchSink, PendingMessage } from './measure-writer';

export interface BatcherOptions {
  /** Flush once this many measures (or rejections) are buffered. */
  readonly batchSize: number;
  /** Flush a non-empty buffer at most this long after its first message arrived. */
  readonly flushMs: number;
}

export const BATCHER_OPTIONS: InjectionToken<BatcherOptions> = Symbol('BatcherOptions');

class Abandoned extends Error {}

/**
 * Collects deliveries into batches and writes them, acking only after the commit.
 *
 * Invariants: at most one flush runs at a time; the buffer is swapped out before the write is
 * awaited, so deliveries arriving meanwhile fill the next batch; a batch is acked with one
 * multiple-ack of its last delivery, which covers every earlier one on that channel because
 * batches are written in arrival order. A failing write keeps its messages unacked and is retried
 * with capped backoff; the broker stops sending once prefetch is used up, which is the back
 * pressure. A batch whose channel is gone is dropped: the broker redelivers it.
 */
@injectable()
export class MeasureBatcher {
  private buffer: PendingMessage[] = [];
  /**
   * The newest delivery in the buffer. Only it is kept: its multiple-ack acks the whole batch, and
   * letting go of the others (their bodies are decoded already) keeps the broker's frames of up
   * to prefetch messages from living on through the write, which made garbage collection the
   * largest cost of ingesting single-measure messages.
   */
  private lastDelivery: Delivery | undefined;
  /**
   * Where full batches end in the buffer, with the delivery that acks each. While one batch is
   * written, the broker may deliver up to prefetch messages; cutting them into batches of about
   * batchSize measures keeps every transaction that size instead of one huge write.
   */
  private cuts: Array<{ end: number; delivery: Delivery }> = [];
  /** Measures (and rejections) after the last cut. */
  private openMeasures = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dueWhileFlushing = false;
  private draining = false;
  private giveUp = false;
  private failure: string | undefined;

  constructor(
    @inject(BATCH_SINK) private readonly sink: BatchSink,
    @inject(BATCHER_OPTIONS) private readonly opts: BatcherOptions,
    @inject(IngestMetrics) private readonly metrics: IngestMetrics,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  /** Why writes are failing right now, if they are. */
  get writeFailure(): string | undefined {
    return this.failure;
  }

  add(delivery: Delivery): void {
    const decoded = decodeMeasureMessage(delivery.body);
    this.buffer.push({ decoded, messageId: delivery.messageId });
    this.lastDelivery = delivery;
    this.openMeasures += decoded.measures.length + decoded.rejections.length;
    this.metrics.consumed.inc();
    this.metrics.buffered.inc();
    if (this.openMeasures >= this.opts.batchSize) {
      this.cuts.push({ end: this.buffer.length, delivery });
      this.openMeasures = 0;
      this.kick();
    } else {
      this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs);
    }
  }

  /** The channel is gone: what is buffered will be redelivered, so drop it. */
  discard(): void {
    this.metrics.buffered.dec(this.buffer.length);
    this.buffer = [];
    this.cuts = [];
    this.lastDelivery = undefined;
    this.openMeasures = 0;
    this.clearTimer();
  }

  /** Writes and acks everything buffered; gives up (leaving it unacked) after timeoutMs. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    const deadline = setTimeout(() => (this.giveUp = true), timeoutMs);
    try {
      while (this.buffer.length > 0 || this.flushing) {
        if (this.giveUp) return false;
        this.kick();
        await this.flushing;
      }
      return !this.giveUp;
    } finally {
      clearTimeout(deadline);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    this.clearTimer();
    if (this.flushing) {
      this.dueWhileFlushing = true;
      return;
    }
    this.flushing = this.flushLoop().finally(() => (this.flushing = undefined));
  }

  private async flushLoop(): Promise<void> {
    for (;;) {
      let batch: PendingMessage[];
      let last: Delivery;
      const cut = this.cuts.shift();
      if (cut) {
        batch = this.buffer.splice(0, cut.end);
        for (const c of this.cuts) c.end -= cut.end;
        last = cut.delivery;
        if (this.buffer.length === 0) this.lastDelivery = undefined;
      } else {
        if (this.buffer.length === 0 || !this.lastDelivery) return;
        batch = this.buffer;
        last = this.lastDelivery;
        this.buffer = [];
        this.lastDelivery = undefined;
        this.openMeasures = 0;
      }
      this.dueWhileFlushing = false;
      this.clearTimer();
      await this.writeAndAck(batch, last);
      this.metrics.buffered.dec(batch.length);
      if (this.cuts.length > 0 || this.dueWhileFlushing || this.draining) continue;
      if (this.buffer.length > 0) this.timer ??= setTimeout(() => this.kick(), this.opts.flushMs);
      return;
    }
  }

  private async writeAndAck(batch: PendingMessage[], last: Delivery): Promise<void> {
    const started = process.hrtime.bigint();
    const batchId = randomUUID();
    let attempts = 0;
    try {
      const outcome = await retryForever(
        async () => {
          if (last.stale() || this.giveUp) throw new Abandoned();
          return this.sink.write(batch, batchId, attempts++ > 0);
        },
        {
          startingDelayMs: 100,
          maxDelayMs: 5_000,
          shouldRetry: (err, attempt) => {
            if (err instanceof Abandoned) return false;
            this.failure = describe(err);
            this.metrics.writeErrors.inc();
            this.logger.warn('batch write failed, will retry', { err: this.failure, attempt, messages: batch.length });
            return !last.stale() && !this.giveUp;
          },
        },
      );
      last.ackUpTo();
      this.logger.debug('batch committed', { messages: batch.length, stored: outcome.stored, acked: !last.stale() });
      if (this.failure) this.logger.info('batch writes recovered');
      this.failure = undefined;
      this.metrics.batches.inc();
      this.metrics.stored.inc(outcome.stored);
      for (const [reason, n] of outcome.rejected) this.metrics.rejected.inc({ reason }, n);
      this.metrics.flushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    } catch (err) {
      // Abandoned (channel lost or stopping): the broker redelivers these messages.
      this.logger.warn('batch abandoned, left for redelivery', { messages: batch.length, err: describe(err) });
    }
  }
}
