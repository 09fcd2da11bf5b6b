import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { LegacyEagleClient, LocalEagleClient } from '../adapters/rainforest/eagle-clients';
import { parseGatewayConfig } from '../adapters/rainforest/gateway-config';
import type { LegacyGateway, LocalGateway } from '../adapters/rainforest/gateway-config';
import { TOPOLOGY } from '../services/shared/amqp-topology';
import { decodeMeasureMessage } from '../services/shared/measure-contract';
import type { Measure } from '../services/shared/measure-contract';
import { startEagleSimulator } from './support/eagle-simulator';
import type { EagleSimulator, SimulatedMeter } from './support/eagle-simulator';
import { spawnNode, startIngest } from './support/processes';
import type { IngestProcess, Spawned } from './support/processes';
import { createTestDatabase, createTestVhost, waitFor } from './support/services';
import type { TestDatabase, TestVhost } from './support/services';

/**
 * The Rainforest poller against the Eagle simulator: decoding of both APIs, then the real adapter
 * process with its journal, publishing to RabbitMQ (and, end to end, through ingest into MariaDB).
 * Cadence is asserted on the poll times the simulators record, relative to each other.
 */

const CLOUD_ID = '008123';
const INSTALL_CODE = 'f00dfeedc0ffee42';
const USER = 'ops@example.org';
const PASSWORD = 'hunter2-legacy-password';
const Y2010 = Date.UTC(2010, 0, 1) / 1000;

/** Local API meter: 2.79 kW, 91937.25 kWh delivered, 0 kWh received, last contact 2023-11-14T22:13:20Z. */
const LOCAL_METER: SimulatedMeter = {
  macId: '0x0007810000123456',
  demandRaw: 2790,
  summationDeliveredRaw: 91_937_250,
  summationReceivedRaw: 0,
  multiplier: 1,
  divisor: 1000,
  timestamp: 1_700_000_000,
};

/** Legacy meter exporting 1.5 kW (Demand 0xfffa24, Multiplier 0 read as 1), at 2010-01-01Z (0x12d0e580 from 2000). */
const LEGACY_METER: SimulatedMeter = {
  macId: '0xfedcba9876543210',
  demandRaw: -1500,
  summationDeliveredRaw: 123_456_789,
  summationReceivedRaw: 2500,
  multiplier: 0,
  divisor: 1000,
  timestamp: Y2010,
};

const sims: EagleSimulator[] = [];
let tmp: string;
let vhost: TestVhost;

async function simulator(meter: SimulatedMeter, extra: Parameters<typeof startEagleSimulator>[0] = {}): Promise<EagleSimulator> {
  const sim = await startEagleSimulator({ cloudId: CLOUD_ID, installCode: INSTALL_CODE, user: USER, password: PASSWORD, meters: [meter], ...extra });
  sims.push(sim);
  return sim;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-adapter-rainforest-'));
  vhost = await createTestVhost('adapter_rainforest');
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  await vhost?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const localGateway = (name: string, sim: EagleSimulator, extra: Record<string, unknown> = {}) => ({
  name,
  api: 'local',
  url: sim.url,
  cloudId: CLOUD_ID,
  installCode: INSTALL_CODE,
  experiment: 'energy',
  ...extra,
});

const legacyGateway = (name: string, sim: EagleSimulator, extra: Record<string, unknown> = {}) => ({
  name,
  api: 'legacy',
  url: sim.url,
  cloudId: CLOUD_ID,
  user: USER,
  password: PASSWORD,
  experiment: 'energy',
  ...extra,
});

let configs = 0;
function writeConfig(doc: unknown): string {
  const file = path.join(tmp, `gateways-${++configs}.json`);
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

interface Adapter extends Spawned {
  stop(): Promise<number | string>;
  /** waitFor, with the adapter's output so far in the error. */
  waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
}

function startAdapter(config: unknown, url = vhost.url): Adapter {
  const journal = path.join(tmp, `journal-${++configs}`);
  const spawned = spawnNode('adapters/cli.js', { AMQP_URL: url }, ['rainforest', '--config', writeConfig(config), '--journal-dir', journal]);
  return {
    ...spawned,
    stop: async () => {
      if (spawned.proc.exitCode === null) spawned.proc.kill('SIGTERM');
      return spawned.exited;
    },
    waitFor: (probe, what, timeoutMs) =>
      waitFor(probe, what, timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}\n${spawned.output()}`);
      }),
  };
}

/** Takes every measure message queued in the vhost. */
async function takeMeasures(url: string): Promise<Measure[]> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    const measures: Measure[] = [];
    for (;;) {
      const msg = await ch.get(TOPOLOGY.queue);
      if (!msg) return measures;
      const decoded = decodeMeasureMessage(msg.content);
      expect(decoded.rejections).toEqual([]);
      measures.push(...decoded.measures);
      ch.ack(msg);
    }
  } finally {
    await conn.close();
  }
}

/** Intervals between the requests a simulator received, from the first one on. */
function gaps(sim: EagleSimulator): number[] {
  return sim.requests.slice(1).map((r, i) => r.atMs - sim.requests[i].atMs);
}

/**
 * How a healthy gateway's polls kept to its fixed-rate schedule: the mean period, and how late
 * each poll came against the grid phase + k × period (the phase taken from the earliest poll).
 * A late poll does not push the later ones back, so one stall of a busy machine shows as one
 * late poll, while a gateway made to wait for another would be late at every poll.
 */
function cadence(sim: EagleSimulator, periodMs: number): { meanPeriodMs: number; maxLateMs: number } {
  const times = sim.requests.map((r) => r.atMs);
  const phase = Math.min(...times.map((t, k) => t - k * periodMs));
  return {
    meanPeriodMs: (times[times.length - 1] - times[0]) / (times.length - 1),
    maxLateMs: Math.max(...times.map((t, k) => t - k * periodMs - phase)),
  };
}

/**
 * Checks a failing gateway backed off: attempt i+1 came about pollMs + period × 2^i after attempt
 * i (jitter ±5%), give or take `slackMs` for a busy machine delaying one request.
 */
function expectBackoff(sim: EagleSimulator, periodMs: number, pollMs: number, slackMs: number): void {
  const g = gaps(sim);
  expect(g.length).toBeGreaterThanOrEqual(2);
  g.forEach((gap, i) => {
    const expected = pollMs + periodMs * 2 ** i;
    expect(gap).toBeGreaterThan(expected * 0.95 - slackMs);
    expect(gap).toBeLessThan(expected * 1.05 + slackMs);
  });
}

/** The JSON log lines of an adapter's output. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const sortMeasures = (ms: Measure[]): Measure[] => [...ms].sort((a, b) => `${a.source}${a.measure}`.localeCompare(`${b.source}${b.measure}`));

describe('Eagle clients against the simulator', () => {
  const signal = new AbortController().signal;
  const gateways = (doc: unknown) => parseGatewayConfig(doc, 'test').gateways;

  it('reads the EAGLE-200 local API: discovered meter, decimal values, LastContact in Unix seconds', async () => {
    const sim = await simulator(LOCAL_METER);
    const [gw] = gateways({ gateways: [localGateway('local', sim)] });
    const client = new LocalEagleClient(gw as LocalGateway, { timeoutMs: 2000 });
    expect(await client.poll(signal, 0)).toEqual({
      readings: [
        { meterMac: '0x0007810000123456', timestampUs: 1_700_000_000_000_000, demandKw: 2.79, summationDeliveredKwh: 91_937.25, summationReceivedKwh: 0 },
      ],
      problems: [],
    });
    expect(sim.requests.map((r) => [r.command, r.status])).toEqual([
      ['device_list', 200],
      ['device_query', 200],
    ]);
    // The meter list is kept: the next poll is one query.
    await client.poll(signal, 0);
    expect(sim.requests.map((r) => r.command)).toEqual(['device_list', 'device_query', 'device_query']);
  });

  it('reads the legacy API with Cloud-ID/User/Password: negative demand, 2000 epoch, MAC kept as a string', async () => {
    const sim = await simulator(LEGACY_METER);
    const [gw] = gateways({ gateways: [legacyGateway('legacy', sim)] });
    const client = new LegacyEagleClient(gw as LegacyGateway, { timeoutMs: 2000 });
    expect(await client.poll(signal)).toEqual({
      readings: [
        { meterMac: '0xfedcba9876543210', timestampUs: Y2010 * 1_000_000, demandKw: -1.5 },
        { meterMac: '0xfedcba9876543210', timestampUs: Y2010 * 1_000_000, summationDeliveredKwh: 123_456.789, summationReceivedKwh: 2.5 },
      ],
      problems: [],
    });
    sim.setSummation(false);
    const partial = await client.poll(signal);
    expect(partial.readings).toHaveLength(1);
    expect(partial.problems).toEqual(['get_current_summation: the gateway answered <Error>: Text: Command not supported']);
  });

  it('turns 401, malformed XML, <Error>, HTTP 500, a reset and a hang into distinct errors', async () => {
    const sim = await simulator(LEGACY_METER);
    const [gw] = gateways({ gateways: [localGateway('faulty', sim, { meterMacId: LEGACY_METER.macId })] });
    const client = new LocalEagleClient(gw as LocalGateway, { timeoutMs: 300 });
    const cases: Array<[Parameters<EagleSimulator['setFault']>[0], RegExp]> = [
      [{ kind: 'unauthorized' }, /^authentication refused \(HTTP 401\)/],
      [{ kind: 'malformed' }, /^malformed XML/],
      [{ kind: 'error-document' }, /^device_query: the gateway answered <Error>: Text: Simulated error$/],
      [{ kind: 'http-error', status: 500 }, /^HTTP 500 from the gateway$/],
      [{ kind: 'reset' }, /^cannot reach the gateway/],
      [{ kind: 'hang' }, /^no answer within 300 ms$/],
      [{ kind: 'slow', delayMs: 1000 }, /^no answer within 300 ms$/],
    ];
    for (const [fault, message] of cases) {
      sim.setFault(fault);
      await expect(client.poll(signal, 0)).rejects.toThrow(message);
    }
    sim.setFault({ kind: 'slow', delayMs: 50 });
    await expect(client.poll(signal, 0)).resolves.toMatchObject({ readings: [{ demandKw: -1.5 }] });
    const wrong = new LocalEagleClient({ ...(gw as LocalGateway), installCode: 'wrong' }, { timeoutMs: 300 });
    sim.setFault({ kind: 'none' });
    await expect(wrong.poll(signal, 0)).rejects.toThrow(/HTTP 401/);
  });
});

describe('rainforest adapter process', () => {
  beforeEach(async () => {
    await takeMeasures(vhost.url);
  });

  it('publishes hand-computed readings of both APIs once each, however often it polls', async () => {
    const local = await simulator(LOCAL_METER);
    const legacy = await simulator(LEGACY_METER);
    const adapter = startAdapter({
      pollIntervalMs: 300,
      gateways: [localGateway('local', local), legacyGateway('legacy', legacy)],
    });
    try {
      await adapter.waitFor(() => local.requests.length >= 4 && legacy.requests.length >= 6, 'polls');
      const measures: Measure[] = [];
      await adapter.waitFor(async () => {
        measures.push(...(await takeMeasures(vhost.url)));
        return measures.length >= 6;
      }, 'six measures');
      expect(await adapter.stop()).toBe(0);
      measures.push(...(await takeMeasures(vhost.url)));
      const local1700 = 1_700_000_000_000_000;
      const legacy2010 = Y2010 * 1_000_000;
      expect(sortMeasures(measures)).toEqual(
        sortMeasures([
          { experiment: 'energy', measure: 'kilowatt', value: 2.79, timestampUs: local1700, source: '0x0007810000123456' },
          { experiment: 'energy', measure: 'kilowatt-hour-delivered', value: 91_937.25, timestampUs: local1700, source: '0x0007810000123456' },
          { experiment: 'energy', measure: 'kilowatt-hour-received', value: 0, timestampUs: local1700, source: '0x0007810000123456' },
          { experiment: 'energy', measure: 'kilowatt', value: -1.5, timestampUs: legacy2010, source: '0xfedcba9876543210' },
          { experiment: 'energy', measure: 'kilowatt-hour-delivered', value: 123_456.789, timestampUs: legacy2010, source: '0xfedcba9876543210' },
          { experiment: 'energy', measure: 'kilowatt-hour-received', value: 2.5, timestampUs: legacy2010, source: '0xfedcba9876543210' },
        ]),
      );
    } finally {
      await adapter.stop();
    }
    expect(adapter.output()).not.toContain(INSTALL_CODE);
    expect(adapter.output()).not.toContain(PASSWORD);
  });

  it('keeps the cadence of healthy gateways while one never answers', async () => {
    // The 6 s period and 1 s tolerance of production, scaled down to 1.2 s and 200 ms.
    const hung = await simulator(LOCAL_METER, { fault: { kind: 'hang' } });
    const okA = await simulator(LOCAL_METER);
    const okB = await simulator(LEGACY_METER);
    const adapter = startAdapter({
      pollIntervalMs: 1200,
      requestTimeoutMs: 800,
      jitterRatio: 0.02,
      gateways: [
        localGateway('hung', hung, { meterMacId: LOCAL_METER.macId }),
        localGateway('ok-a', okA, { meterMacId: LOCAL_METER.macId }),
        legacyGateway('ok-b', okB, { summation: false }),
      ],
    });
    try {
      await adapter.waitFor(() => okA.requests.length >= 8 && okB.requests.length >= 8, 'eight polls each', 60_000);
    } finally {
      expect(await adapter.stop()).toBe(0);
    }
    // A poll of the hung gateway was always waiting out its 800 ms timeout, yet the healthy ones
    // kept their 1200 ms rate and no poll of theirs came more than 200 ms late (jitter is ±24 ms).
    for (const sim of [okA, okB]) {
      const { meanPeriodMs, maxLateMs } = cadence(sim, 1200);
      expect(Math.abs(meanPeriodMs - 1200)).toBeLessThan(30);
      expect(maxLateMs).toBeLessThan(200);
    }
    // The hung gateway is tried after each timeout plus 1.2 s, 2.4 s, 4.8 s …
    expectBackoff(hung, 1200, 800, 200);
    const failures = logLines(adapter.output()).filter((l) => l.message === 'gateway poll failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.every((l) => l.gateway === 'hung' && l.error === 'no answer within 800 ms')).toBe(true);
  });

  it('backs off from a gateway answering 401 or malformed XML, logs why, and keeps polling the others', async () => {
    const unauthorized = await simulator(LOCAL_METER, { fault: { kind: 'unauthorized' } });
    const malformed = await simulator(LEGACY_METER, { fault: { kind: 'malformed' } });
    const good = await simulator({ ...LOCAL_METER, macId: '0x00078100000000aa', timestamp: undefined });
    const adapter = startAdapter({
      pollIntervalMs: 300,
      gateways: [
        localGateway('bad-auth', unauthorized, { meterMacId: LOCAL_METER.macId }),
        legacyGateway('bad-xml', malformed),
        localGateway('good', good, { meterMacId: '0x00078100000000aa' }),
      ],
    });
    try {
      await adapter.waitFor(() => unauthorized.requests.length >= 4 && malformed.requests.length >= 4, 'four attempts each');
      // The good gateway polled all along, at its rate; the failing ones every 300, 600, 1200 ms …
      expect(good.requests.length).toBeGreaterThan(unauthorized.requests.length);
      // Generous: this test is about the failing gateways backing off, not the good one's precision
      // (the cadence test above holds that to the bound) on a busy 2-core machine.
      expect(Math.abs(cadence(good, 300).meanPeriodMs - 300)).toBeLessThan(60);
      for (const sim of [unauthorized, malformed]) expectBackoff(sim, 300, 0, 200);
      const failures = logLines(adapter.output()).filter((l) => l.message === 'gateway poll failed');
      expect(failures.find((l) => l.gateway === 'bad-auth')).toMatchObject({
        'log.level': 'error',
        error: 'authentication refused (HTTP 401): check the cloud id and install code',
        consecutiveFailures: 1,
      });
      expect(failures.find((l) => l.gateway === 'bad-xml')).toMatchObject({ error: expect.stringMatching(/^malformed XML/) });
      expect(failures.some((l) => l.gateway === 'good')).toBe(false);

      // Once the gateway accepts the credentials again, it is polled at its cadence again.
      unauthorized.setFault({ kind: 'none' });
      await waitFor(() => logLines(adapter.output()).some((l) => l.message === 'gateway recovered' && l.gateway === 'bad-auth'), 'recovery', 30_000);
      const measures = await waitFor(async () => {
        const got = await takeMeasures(vhost.url);
        return got.length > 0 && got;
      }, 'measures of the good gateway');
      expect(measures.some((m) => m.source === '0x00078100000000aa' && m.measure === 'kilowatt' && m.value === 2.79)).toBe(true);
    } finally {
      expect(await adapter.stop()).toBe(0);
    }
    expect(adapter.output()).not.toContain(INSTALL_CODE);
    expect(adapter.output()).not.toContain(PASSWORD);
  });

  it('refuses a bad gateways file at start with the field and rule, and no secret', async () => {
    const adapter = startAdapter({ gateways: [{ name: 'x', api: 'local', url: 'ftp://eagle', cloudId: 'nothex', installCode: INSTALL_CODE, experiment: 'e' }] });
    expect(await adapter.exited).toBe(2);
    expect(adapter.output()).toContain('error: invalid gateways file');
    expect(adapter.output()).toContain('gateways[0] ("x").url: must be an http(s) URL');
    expect(adapter.output()).toContain('gateways[0] ("x").cloudId: must be the cloud id printed on the gateway (hex digits)');
    expect(adapter.output()).not.toContain(INSTALL_CODE);
  });
});

describe('simulator → rainforest adapter → RabbitMQ → ingest → MariaDB', () => {
  let db: TestDatabase;
  let e2eVhost: TestVhost;
  let ingest: IngestProcess | undefined;

  beforeAll(async () => {
    [db, e2eVhost] = await Promise.all([createTestDatabase('adapter_rainforest'), createTestVhost('adapter_rainforest_e2e')]);
    await db.pool.query("INSERT INTO experiments (name) VALUES ('energy')");
    await db.pool.query(
      `INSERT INTO measure_types (name, symbol, quantity) VALUES
       ('kilowatt', 'kW', 'power'), ('kilowatt-hour-delivered', 'kWh', 'energy imported'), ('kilowatt-hour-received', 'kWh', 'energy exported')`,
    );
    ingest = await startIngest({ MYSQL_URL: db.url, AMQP_URL: e2eVhost.url, INGEST_FLUSH_MS: '20' });
  });

  afterAll(async () => {
    ingest?.proc.kill('SIGTERM');
    await ingest?.exited;
    await Promise.all([db?.drop(), e2eVhost?.delete()]);
  });

  it('stores the legacy meter’s export as a negative demand at its 2000-epoch time, MAC as source', async () => {
    const legacy = await simulator(LEGACY_METER);
    const adapter = startAdapter({ pollIntervalMs: 500, gateways: [legacyGateway('legacy', legacy)] }, e2eVhost.url);
    try {
      await adapter.waitFor(async () => {
        const [rows] = await db.pool.query('SELECT COUNT(*) AS n FROM measures');
        return Number((rows as Array<{ n: number }>)[0].n) === 3;
      }, 'three stored measures');
    } finally {
      expect(await adapter.stop()).toBe(0);
    }
    const [rows] = await db.pool.query(
      `SELECT e.name AS experiment, t.name AS measure, m.source, m.ts, m.value
       FROM measures m JOIN experiments e ON e.id = m.experiment_id JOIN measure_types t ON t.id = m.measure_type_id
       ORDER BY t.name`,
    );
    expect(rows).toEqual([
      { experiment: 'energy', measure: 'kilowatt', source: '0xfedcba9876543210', ts: '2010-01-01 00:00:00.000000', value: -1.5 },
      { experiment: 'energy', measure: 'kilowatt-hour-delivered', source: '0xfedcba9876543210', ts: '2010-01-01 00:00:00.000000', value: 123_456.789 },
      { experiment: 'energy', measure: 'kilowatt-hour-received', source: '0xfedcba9876543210', ts: '2010-01-01 00:00:00.000000', value: 2.5 },
    ]);
    const [rejected] = await db.pool.query('SELECT COUNT(*) AS n FROM rejected_measures');
    expect(Number((rejected as Array<{ n: number }>)[0].n)).toBe(0);
  });
});
