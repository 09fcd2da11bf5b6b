/**
 * When a gateway is polled next. Healthy gateways keep a fixed rate: tick k is due at
 * phase + k × interval, moved by a small random jitter that never accumulates, so gateways started
 * together drift apart and stay apart without any of them drifting off its cadence. A failure
 * switches to capped exponential backoff (interval, 2×, 4×, … up to maxBackoffMs, jittered too);
 * the first success restarts the cadence from there. Times are monotonic milliseconds.
 */

export interface ScheduleOptions {
  readonly intervalMs: number;
  /** Each due time moves by up to ± jitterRatio × the delay. */
  readonly jitterRatio: number;
  readonly maxBackoffMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

export class PollSchedule {
  private base: number;
  private failures = 0;
  private readonly random: () => number;

  constructor(
    private readonly opts: ScheduleOptions,
    startMs: number,
  ) {
    this.random = opts.random ?? Math.random;
    // A random phase within the first interval spreads gateways that start at the same moment.
    this.base = startMs + this.random() * opts.intervalMs;
  }

  /** When the first poll is due. */
  get firstDue(): number {
    return this.base;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  private jitter(delayMs: number): number {
    return delayMs * this.opts.jitterRatio * (2 * this.random() - 1);
  }

  /** After a successful poll that ended at nowMs: when the next one is due. */
  succeeded(nowMs: number): number {
    this.failures = 0;
    this.base += this.opts.intervalMs;
    // A poll slower than the interval skips the ticks it overran instead of bunching them.
    if (this.base <= nowMs) this.base += Math.ceil((nowMs - this.base) / this.opts.intervalMs) * this.opts.intervalMs;
    return Math.max(nowMs, this.base + this.jitter(this.opts.intervalMs));
  }

  /** After a failed poll that ended at nowMs: when to try again. */
  failed(nowMs: number): number {
    this.failures++;
    const exponent = Math.min(this.failures - 1, 30);
    // Never retry faster than the normal cadence, whatever maxBackoffMs says.
    const delay = Math.max(this.opts.intervalMs, Math.min(this.opts.maxBackoffMs, this.opts.intervalMs * 2 ** exponent));
    this.base = nowMs + delay;
    return this.base + this.jitter(delay);
  }
}
