import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { redactString } from '../../services/shared/logger';
import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from '../sdk/durable-sink';
import type { DurableSink } from '../sdk/durable-sink';
import type { EagleClient, MeterReading, PollResult } from './eagle-clients';
import { sourceFor } from './gateway-config';
import type { GatewayConfig, Quantity } from './gateway-config';
import { PollSchedule } from './poll-schedule';

/**
 * Polls one gateway on its own schedule. Every gateway runs its own loop and awaits only its own
 * requests, so a gateway that hangs, refuses or talks nonsense never delays another. Readings go
 * to the durable sink in the background, in order; while the sink refuses them (journal full)
 * they wait in memory, bounded, because a meter cannot be asked again for an instantaneous demand
 * it reported minutes ago.
 */

export interface AdapterLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface PollerOptions {
  readonly jitterRatio: number;
  readonly maxBackoffMs: number;
  /** Measures held in memory while the sink refuses them; beyond it the oldest are dropped, loudly. */
  readonly maxPendingMeasures: number;
  readonly random?: () => number;
  /** Called after each poll, e.g. for a metric. */
  readonly onPoll?: (ok: boolean) => void;
}

export interface PollerStats {
  polls: number;
  failedPolls: number;
  appendedMeasures: number;
  droppedMeasures: number;
}

const QUANTITIES: ReadonlyArray<readonly [Quantity, 'demandKw' | 'summationDeliveredKwh' | 'summationReceivedKwh']> = [
  ['demand', 'demandKw'],
  ['summationDelivered', 'summationDeliveredKwh'],
  ['summationReceived', 'summationReceivedKwh'],
];

function describe(err: unknown): string {
  return redactString(err instanceof Error ? err.message : String(err));
}

export class GatewayPoller {
  readonly stats: PollerStats = { polls: 0, failedPolls: 0, appendedMeasures: 0, droppedMeasures: 0 };
  /** Measures read but not yet accepted by the sink, oldest first. */
  private pending: Measure[] = [];
  /** Last timestamp turned into a measure, per meter and measure type: an unchanged reading is not stored twice. */
  private readonly lastStamp = new Map<string, number>();
  private lastProblems = '';
  /** The append under way, if any. */
  private appending: Promise<void> | undefined;
  /** The sink refused the last append; the next success is worth a log line. */
  private holding = false;

  constructor(
    private readonly gateway: GatewayConfig,
    private readonly client: EagleClient,
    private readonly sink: DurableSink,
    private readonly log: AdapterLog,
    private readonly opts: PollerOptions,
  ) {}

  get pendingMeasures(): number {
    return this.pending.length;
  }

  /** Polls until the signal aborts; never throws. */
  async run(signal: AbortSignal): Promise<void> {
    const schedule = new PollSchedule(
      { intervalMs: this.gateway.pollIntervalMs, jitterRatio: this.opts.jitterRatio, maxBackoffMs: this.opts.maxBackoffMs, random: this.opts.random },
      performance.now(),
    );
    let due = schedule.firstDue;
    while (!signal.aborted) {
      const wait = due - performance.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          break;
        }
      }
      const failure = await this.pollOnce(signal);
      if (signal.aborted) break;
      this.opts.onPoll?.(failure === undefined);
      if (failure === undefined) {
        if (schedule.consecutiveFailures > 0) {
          this.log.info('gateway recovered', { gateway: this.gateway.name, failedPolls: schedule.consecutiveFailures });
        }
        due = schedule.succeeded(performance.now());
      } else {
        const now = performance.now();
        due = schedule.failed(now);
        this.log.error('gateway poll failed', {
          gateway: this.gateway.name,
          endpoint: redactString(this.gateway.endpoint),
          error: failure,
          consecutiveFailures: schedule.consecutiveFailures,
          retryInMs: Math.round(due - now),
        });
      }
    }
    await this.settled();
    // One last try for what the sink refused earlier: it may have room by now.
    this.store([]);
    await this.settled();
    if (this.pending.length > 0) {
      this.log.error('stopping with readings the journal did not accept', { gateway: this.gateway.name, measures: this.pending.length });
    }
  }

  /** One poll, its readings queued for the sink; returns why the poll failed, or undefined. */
  async pollOnce(signal: AbortSignal): Promise<string | undefined> {
    this.stats.polls++;
    let result: PollResult;
    try {
      result = await this.client.poll(signal, Date.now() * 1000);
    } catch (err) {
      this.stats.failedPolls++;
      return describe(err);
    }
    this.reportProblems(result.problems);
    this.store(this.toMeasures(result.readings));
    return undefined;
  }

  private reportProblems(problems: readonly string[]): void {
    // A firmware without summation fails the same way on every poll: say so when it changes only.
    const key = problems.join('\n');
    if (key === this.lastProblems) return;
    this.lastProblems = key;
    if (problems.length) this.log.warn('gateway answered in part', { gateway: this.gateway.name, problems: problems.map(redactString) });
    else this.log.info('gateway answers in full again', { gateway: this.gateway.name });
  }

  toMeasures(readings: readonly MeterReading[]): Measure[] {
    const measures: Measure[] = [];
    for (const r of readings) {
      const source = sourceFor(this.gateway, r.meterMac);
      for (const [quantity, field] of QUANTITIES) {
        const measure = this.gateway.measures[quantity];
        const value = r[field];
        if (measure === undefined || value === undefined) continue;
        if (!Number.isFinite(value)) {
          this.log.warn('reading skipped: not a finite number', { gateway: this.gateway.name, meter: r.meterMac, measure });
          continue;
        }
        const key = `${r.meterMac}|${measure}`;
        if (this.lastStamp.get(key) === r.timestampUs) continue;
        this.lastStamp.set(key, r.timestampUs);
        measures.push({ experiment: this.gateway.experiment, measure, value, timestampUs: r.timestampUs, source });
      }
    }
    return measures;
  }

  /**
   * Queues the measures and starts appending them unless an append is under way. The poll loop
   * does not wait for it: a disk that is slow to fsync must not slow the sampling of the meters.
   */
  private store(measures: readonly Measure[]): void {
    if (measures.length) this.pending.push(...measures);
    this.bound();
    if (this.appending === undefined && this.pending.length > 0) {
      this.appending = this.appendPending().finally(() => {
        this.appending = undefined;
      });
    }
  }

  /** Drops the oldest held measures beyond maxPendingMeasures, and says so. */
  private bound(): void {
    const excess = this.pending.length - this.opts.maxPendingMeasures;
    if (excess <= 0) return;
    this.pending.splice(0, excess);
    this.stats.droppedMeasures += excess;
    this.log.error('readings LOST: more held in memory than maxPendingMeasures while the journal refuses them; oldest dropped', {
      gateway: this.gateway.name,
      droppedMeasures: excess,
      droppedTotal: this.stats.droppedMeasures,
      heldMeasures: this.pending.length,
    });
  }

  /** Appends what is pending, in order, until nothing is or the sink refuses; never throws. */
  private async appendPending(): Promise<void> {
    let held = false;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.sink.append(batch);
      } catch (err) {
        // Readings that arrived meanwhile go after the refused batch; the next poll tries again.
        this.pending = batch.concat(this.pending);
        this.log.error(err instanceof JournalFullError ? 'journal full: holding readings in memory' : 'journal append failed: holding readings in memory', {
          gateway: this.gateway.name,
          error: describe(err),
          heldMeasures: this.pending.length,
        });
        this.bound();
        this.holding = true;
        return;
      }
      this.stats.appendedMeasures += batch.length;
      held ||= this.holding;
      this.holding = false;
    }
    if (held) this.log.info('journal accepted the held readings', { gateway: this.gateway.name });
  }

  /** Resolves once no append is under way (what the sink refused stays pending). */
  async settled(): Promise<void> {
    while (this.appending) await this.appending;
  }
}
