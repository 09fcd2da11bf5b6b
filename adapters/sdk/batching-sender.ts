import type { Measure } from '../../services/shared/measure-contract';

/** Where batches go: a MeasurePublisher, or a fake in tests. */
export interface MeasureSink {
  publish(measures: readonly Measure[]): Promise<void>;
}

export interface BatchingOptions {
  /** Measures per message. */
  readonly batchSize: number;
  /** A partly filled batch goes out at most this long after its first measure arrived. */
  readonly flushMs: number;
  /** Messages awaiting their confirm before add() waits. */
  readonly maxInFlight: number;
  /** Called once, on the first failed batch, e.g. to stop reading input at once. */
  readonly onFailure?: (error: unknown) => void;
}

export interface SenderStats {
  /** Measures and messages the broker has confirmed. */
  readonly confirmedMeasures: number;
  readonly confirmedMessages: number;
  /** Measures handed to add() and not (yet) confirmed: buffered, in flight or failed. */
  readonly unconfirmedMeasures: number;
}

/**
 * Collects measures into batches for a sink: a batch goes out when full or when flushMs has passed
 * since its first measure, so a slow trickle from a device still goes out promptly. Several
 * batches may await their confirms at once; add() waits when maxInFlight are outstanding. After
 * the first failed batch nothing more is sent, and add() and finish() throw that failure.
 */
export class BatchingSender {
  private buffer: Measure[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { readonly error: unknown } | undefined;
  private added = 0;
  private confirmedMeasures = 0;
  private confirmedMessages = 0;

  constructor(
    private readonly sink: MeasureSink,
    private readonly opts: BatchingOptions,
  ) {}

  get stats(): SenderStats {
    return {
      confirmedMeasures: this.confirmedMeasures,
      confirmedMessages: this.confirmedMessages,
      unconfirmedMeasures: this.added - this.confirmedMeasures,
    };
  }

  async add(measure: Measure): Promise<void> {
    this.throwIfFailed();
    this.added++;
    this.buffer.push(measure);
    if (this.buffer.length >= this.opts.batchSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs);
    while (this.inFlight.size >= this.opts.maxInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  /** Sends what is buffered and waits for every confirm; throws if any batch failed. */
  async finish(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0 || this.failure) return;
    // Swap the buffer before the await: adds during the publish start the next batch.
    const batch = this.buffer;
    this.buffer = [];
    const sent: Promise<void> = this.sink.publish(batch).then(
      () => {
        this.confirmedMeasures += batch.length;
        this.confirmedMessages++;
      },
      (error: unknown) => {
        if (this.failure) return;
        this.failure = { error };
        this.opts.onFailure?.(error);
      },
    );
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private throwIfFailed(): void {
    if (this.failure) {
      clearTimeout(this.timer);
      throw this.failure.error;
    }
  }
}
