import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from '../sdk/durable-sink';
import type { DurableSink } from '../sdk/durable-sink';
import type { EagleClient, PollResult } from './eagle-clients';
import { parseGatewayConfig } from './gateway-config';
import { GatewayPoller } from './gateway-poller';
import type { AdapterLog } from './gateway-poller';

const MAC = '0x000781000081fd17';

class FakeSink implements DurableSink {
  readonly appended: Measure[][] = [];
  full = false;
  append(measures: readonly Measure[]): Promise<void> {
    if (this.full) return Promise.reject(new JournalFullError(100, 100));
    this.appended.push([...measures]);
    return Promise.resolve();
  }
}

class ScriptedClient implements EagleClient {
  constructor(readonly results: Array<PollResult | Error>) {}
  poll(): Promise<PollResult> {
    const next = this.results.shift();
    if (next === undefined) return Promise.reject(new Error('script ended'));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

function recordingLog(): AdapterLog & { lines: Array<[string, string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  return {
    lines,
    info: (m, meta) => lines.push(['info', m, meta]),
    warn: (m, meta) => lines.push(['warn', m, meta]),
    error: (m, meta) => lines.push(['error', m, meta]),
  };
}

const config = (extra: Record<string, unknown> = {}) =>
  parseGatewayConfig(
    {
      gateways: [{ name: 'gw', api: 'legacy', url: 'http://127.0.0.1:1', cloudId: '008123', installCode: 'secret-code', experiment: 'energy', ...extra }],
    },
    'test',
  ).gateways[0];

const reading = (timestampUs: number, demandKw: number) => ({ readings: [{ meterMac: MAC, timestampUs, demandKw }], problems: [] });

function poller(client: EagleClient, sink: DurableSink, log = recordingLog(), maxPendingMeasures = 100, extra: Record<string, unknown> = {}) {
  return new GatewayPoller(config(extra), client, sink, log, { jitterRatio: 0, maxBackoffMs: 1000, maxPendingMeasures });
}

describe('GatewayPoller', () => {
  const signal = new AbortController().signal;
  /** One poll, then waits for the background append it started. */
  const poll = async (p: GatewayPoller): Promise<string | undefined> => {
    const failure = await p.pollOnce(signal);
    await p.settled();
    return failure;
  };

  it('maps readings to measures of the gateway’s experiment, source = meter MAC, kW and kWh types', async () => {
    const sink = new FakeSink();
    const p = poller(
      new ScriptedClient([
        {
          readings: [
            { meterMac: MAC, timestampUs: 1_000_000, demandKw: -1 },
            { meterMac: MAC, timestampUs: 2_000_000, summationDeliveredKwh: 91_937.25, summationReceivedKwh: 1.5 },
          ],
          problems: [],
        },
      ]),
      sink,
    );
    expect(await poll(p)).toBeUndefined();
    expect(sink.appended).toEqual([
      [
        { experiment: 'energy', measure: 'kilowatt', value: -1, timestampUs: 1_000_000, source: MAC },
        { experiment: 'energy', measure: 'kilowatt-hour-delivered', value: 91_937.25, timestampUs: 2_000_000, source: MAC },
        { experiment: 'energy', measure: 'kilowatt-hour-received', value: 1.5, timestampUs: 2_000_000, source: MAC },
      ],
    ]);
  });

  it('uses a configured source and measure names, and leaves out a quantity set to false', async () => {
    const sink = new FakeSink();
    const p = poller(
      new ScriptedClient([{ readings: [{ meterMac: MAC, timestampUs: 1, demandKw: 2, summationDeliveredKwh: 3, summationReceivedKwh: 4 }], problems: [] }]),
      sink,
      recordingLog(),
      100,
      { source: 'meter-{name}', measures: { demand: 'power', summationReceived: false } },
    );
    await poll(p);
    expect(sink.appended[0].map((m) => [m.measure, m.value, m.source])).toEqual([
      ['power', 2, 'meter-gw'],
      ['kilowatt-hour-delivered', 3, 'meter-gw'],
    ]);
  });

  it('stores an unchanged reading (same meter timestamp) once', async () => {
    const sink = new FakeSink();
    const p = poller(new ScriptedClient([reading(1, 0.5), reading(1, 0.5), reading(2, 0.7)]), sink);
    for (let i = 0; i < 3; i++) await poll(p);
    expect(sink.appended.map((batch) => batch.map((m) => m.value))).toEqual([[0.5], [0.7]]);
  });

  it('returns the failure of a poll, redacted, and appends nothing', async () => {
    const sink = new FakeSink();
    const p = poller(new ScriptedClient([new Error('cannot reach amqp://u:pw@host')]), sink);
    expect(await poll(p)).toBe('cannot reach amqp://u:***@host');
    expect(sink.appended).toEqual([]);
    expect(p.stats).toMatchObject({ polls: 1, failedPolls: 1 });
  });

  it('holds readings while the journal is full and appends them, in order, once it has room', async () => {
    const sink = new FakeSink();
    const log = recordingLog();
    const p = poller(new ScriptedClient([reading(1, 1), reading(2, 2), reading(3, 3)]), sink, log);
    sink.full = true;
    expect(await poll(p)).toBeUndefined();
    await poll(p);
    expect(p.pendingMeasures).toBe(2);
    expect(log.lines.filter(([level]) => level === 'error').map(([, m]) => m)).toEqual([
      'journal full: holding readings in memory',
      'journal full: holding readings in memory',
    ]);
    sink.full = false;
    await poll(p);
    expect(sink.appended.map((batch) => batch.map((m) => m.value))).toEqual([[1, 2, 3]]);
    expect(p.pendingMeasures).toBe(0);
  });

  it('drops the oldest held readings beyond maxPendingMeasures and says how many', async () => {
    const sink = new FakeSink();
    const log = recordingLog();
    const p = poller(new ScriptedClient([reading(1, 1), reading(2, 2), reading(3, 3), reading(4, 4)]), sink, log, 2);
    sink.full = true;
    for (let i = 0; i < 3; i++) await poll(p);
    expect(p.stats.droppedMeasures).toBe(1);
    expect(log.lines.find(([, m]) => m.startsWith('readings LOST'))?.[2]).toMatchObject({ heldMeasures: 2, droppedMeasures: 1, droppedTotal: 1 });
    sink.full = false;
    // The bound holds for the new reading too: 4 arrives, 2 goes.
    await poll(p);
    expect(sink.appended.map((batch) => batch.map((m) => m.value))).toEqual([[3, 4]]);
    expect(p.stats.droppedMeasures).toBe(2);
  });

  it('keeps polling while an append is slow, and appends what came meanwhile after it, in order', async () => {
    let release: () => void = () => undefined;
    const appended: number[][] = [];
    let calls = 0;
    const slow: DurableSink = {
      append: async (measures) => {
        appended.push(measures.map((m) => m.value));
        if (++calls === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    };
    const p = poller(new ScriptedClient([reading(1, 1), reading(2, 2), reading(3, 3)]), slow);
    for (let i = 0; i < 3; i++) expect(await p.pollOnce(signal)).toBeUndefined();
    expect(appended).toEqual([[1]]);
    release();
    await p.settled();
    expect(appended).toEqual([[1], [2, 3]]);
    expect(p.pendingMeasures).toBe(0);
  });

  it('reports partial answers when they change, not on every poll', async () => {
    const log = recordingLog();
    const partial = { ...reading(1, 1), problems: ['get_current_summation: <Error>'] };
    const p = poller(new ScriptedClient([partial, { ...partial, ...reading(2, 1), problems: partial.problems }, reading(3, 1)]), new FakeSink(), log);
    for (let i = 0; i < 3; i++) await poll(p);
    expect(log.lines.map(([level, m]) => `${level} ${m}`)).toEqual(['warn gateway answered in part', 'info gateway answers in full again']);
  });

  it('stops polling as soon as the signal aborts', async () => {
    const stop = new AbortController();
    const client: EagleClient = {
      poll: (s) =>
        new Promise((_, reject) => {
          s.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    };
    const p = new GatewayPoller(config({ pollIntervalMs: 100 }), client, new FakeSink(), recordingLog(), { jitterRatio: 0, maxBackoffMs: 1000, maxPendingMeasures: 10 });
    const running = p.run(stop.signal);
    setTimeout(() => stop.abort(), 150);
    await expect(running).resolves.toBeUndefined();
  });
});
