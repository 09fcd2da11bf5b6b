import type { Measure } from '../../services/shared/measure-contract';
import { BatchingSender } from './batching-sender';
import type { MeasureSink } from './batching-sender';

const m = (value: number): Measure => ({ experiment: 'e', measure: 'hertz', value, timestampUs: 1_700_000_000_000_000 + value, source: '' });

/** A sink whose publishes settle when the test says so. */
class ManualSink implements MeasureSink {
  readonly batches: Array<{ values: number[]; resolve(): void; reject(err: Error): void }> = [];
  publish(measures: readonly Measure[]): Promise<void> {
    return new Promise((resolve, reject) => this.batches.push({ values: measures.map((x) => x.value), resolve, reject }));
  }
}

describe('BatchingSender', () => {
  afterEach(() => jest.useRealTimers());

  it('sends a full batch at once and the rest on finish', async () => {
    const sink = new ManualSink();
    const sender = new BatchingSender(sink, { batchSize: 2, flushMs: 60_000, maxInFlight: 10 });
    for (const v of [1, 2, 3]) await sender.add(m(v));
    expect(sink.batches.map((b) => b.values)).toEqual([[1, 2]]);
    const finished = sender.finish();
    expect(sink.batches.map((b) => b.values)).toEqual([[1, 2], [3]]);
    for (const b of sink.batches) b.resolve();
    await finished;
    expect(sender.stats).toEqual({ confirmedMeasures: 3, confirmedMessages: 2, unconfirmedMeasures: 0 });
  });

  it('sends a partial batch once flushMs has passed since its first measure', async () => {
    jest.useFakeTimers();
    const sink = new ManualSink();
    const sender = new BatchingSender(sink, { batchSize: 100, flushMs: 200, maxInFlight: 10 });
    await sender.add(m(1));
    jest.advanceTimersByTime(150);
    await sender.add(m(2));
    expect(sink.batches).toHaveLength(0);
    jest.advanceTimersByTime(50);
    expect(sink.batches.map((b) => b.values)).toEqual([[1, 2]]);
  });

  it('waits in add() while maxInFlight batches await their confirm', async () => {
    const sink = new ManualSink();
    const sender = new BatchingSender(sink, { batchSize: 1, flushMs: 60_000, maxInFlight: 2 });
    await sender.add(m(1));
    let added = false;
    const second = sender.add(m(2)).then(() => (added = true));
    await Promise.resolve();
    expect(added).toBe(false);
    sink.batches[0].resolve();
    await second;
    expect(added).toBe(true);
  });

  it('stops after a failed batch and reports it from add() and finish()', async () => {
    const sink = new ManualSink();
    const failures: unknown[] = [];
    const sender = new BatchingSender(sink, { batchSize: 1, flushMs: 60_000, maxInFlight: 1, onFailure: (e) => failures.push(e) });
    const first = sender.add(m(1));
    sink.batches[0].reject(new Error('returned'));
    await expect(first).rejects.toThrow('returned');
    expect(failures).toEqual([new Error('returned')]);
    await expect(sender.add(m(2))).rejects.toThrow('returned');
    await expect(sender.finish()).rejects.toThrow('returned');
    expect(sink.batches).toHaveLength(1);
    expect(sender.stats).toEqual({ confirmedMeasures: 0, confirmedMessages: 0, unconfirmedMeasures: 1 });
  });
});
