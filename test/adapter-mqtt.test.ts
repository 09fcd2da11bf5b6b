import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import type { IClientPublishOptions, MqttClient } from 'mqtt';
import { MqttBridge } from '../adapters/mqtt/mqtt-bridge';
import type { BridgeLog, BridgeOptions } from '../adapters/mqtt/mqtt-bridge';
import { parseSubscriptions } from '../adapters/mqtt/subscriptions';
import type { Subscription } from '../adapters/mqtt/subscriptions';
import { JournalFullError } from '../adapters/sdk/durable-sink';
import type { DurableSink } from '../adapters/sdk/durable-sink';
import type { Measure } from '../services/shared/measure-contract';
import { spawnNode, startIngest } from './support/processes';
import type { IngestProcess } from './support/processes';
import { createTestDatabase, createTestVhost, waitFor } from './support/services';
import type { TestDatabase, TestVhost } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/**
 * The MQTT bridge against the machine's real Mosquitto (127.0.0.1:1883). Every test uses its own
 * client ids and topic prefix, and removes the persistent sessions it created.
 */

const BROKER_HOST = '127.0.0.1';
const BROKER_PORT = 1883;
const BROKER = `mqtt://${BROKER_HOST}:${BROKER_PORT}`;

const unique = (what: string): string => `mymonit-test-${what}-${randomBytes(4).toString('hex')}`;

class RecordingSink implements DurableSink {
  readonly appended: Measure[][] = [];
  /** While set, append waits for it; resolve it to let the append finish. */
  gate: Promise<void> | undefined;
  /** While true, append throws JournalFullError. */
  full = false;
  fullRejections = 0;

  async append(measures: readonly Measure[]): Promise<void> {
    if (this.full) {
      this.fullRejections++;
      throw new JournalFullError(1000, 1000, 1);
    }
    this.appended.push([...measures]);
    if (this.gate) await this.gate;
  }

  get measures(): Measure[] {
    return this.appended.flat();
  }
}

function recordingLog(): BridgeLog & { lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  return {
    lines,
    info: (message, meta) => lines.push({ level: 'info', message, meta }),
    warn: (message, meta) => lines.push({ level: 'warn', message, meta }),
    error: (message, meta) => lines.push({ level: 'error', message, meta }),
  };
}

const bridges: MqttBridge[] = [];
const clients: MqttClient[] = [];
const sessions = new Set<string>();

function bridge(sink: DurableSink, subscriptions: Subscription[], extra: Partial<BridgeOptions> = {}, log = recordingLog()): MqttBridge {
  const opts: BridgeOptions = {
    url: BROKER,
    clientId: unique('bridge'),
    subscriptions,
    sessionExpirySeconds: 300,
    reconnectPeriodMs: 100,
    maxPauseMs: 300,
    ...extra,
  };
  const b = new MqttBridge(opts, sink, log);
  for (const id of b.clientIds) sessions.add(id);
  bridges.push(b);
  return b;
}

async function publisher(): Promise<MqttClient> {
  const c = await connectAsync(BROKER, { clientId: unique('pub'), protocolVersion: 5 });
  clients.push(c);
  return c;
}

/** Ends a persistent session: connect with Clean Start and no expiry, then leave. */
async function removeSession(clientId: string): Promise<void> {
  const c = await connectAsync(BROKER, { clientId, protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
  await c.endAsync();
}

afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  await Promise.all(clients.splice(0).map((c) => c.endAsync()));
  await Promise.all([...sessions].map(removeSession));
  sessions.clear();
});

const mymonit = (prefix: string): Subscription[] => [{ topic: `${prefix}/mymonit/+/+/+`, format: 'mymonit' }];
const qos1: IClientPublishOptions = { qos: 1 };

describe('MQTT bridge', () => {
  it('maps numbers and JSON payloads on mymonit topics to measures, and acknowledges bad payloads after reporting them', async () => {
    const prefix = unique('map');
    const sink = new RecordingSink();
    const log = recordingLog();
    const b = bridge(sink, mymonit(prefix), {}, log);
    await b.start();
    const pub = await publisher();
    const before = Date.now() * 1000;
    await pub.publishAsync(`${prefix}/mymonit/vibrations/sensor-17/hertz`, '12.5', qos1);
    await pub.publishAsync(`${prefix}/mymonit/vibrations/sensor-17/hertz`, 'not a number', qos1);
    await pub.publishAsync(`${prefix}/mymonit/black-holes/probe/watt`, JSON.stringify({ value: -1.5, timestamp: 1700000000123 }), qos1);
    await pub.publishAsync(`${prefix}/mymonit/black-holes/probe/watt`, JSON.stringify({ value: 2, timestamp: '2023-11-14T23:13:20.654321+01:00' }), qos1);
    await pub.publishAsync(`${prefix}/mymonit/black-holes/probe/watt`, JSON.stringify({ value: 'high' }), qos1);
    await waitFor(() => b.stats.acknowledged === 5, 'five acknowledged messages');
    const after = Date.now() * 1000;

    const [first, ...rest] = sink.measures;
    expect(first).toMatchObject({ experiment: 'vibrations', source: 'sensor-17', measure: 'hertz', value: 12.5 });
    expect(first.timestampUs).toBeGreaterThanOrEqual(before);
    expect(first.timestampUs).toBeLessThanOrEqual(after);
    expect(rest).toEqual([
      { experiment: 'black-holes', source: 'probe', measure: 'watt', value: -1.5, timestampUs: 1_700_000_000_123_000 },
      { experiment: 'black-holes', source: 'probe', measure: 'watt', value: 2, timestampUs: 1_700_000_000_654_321 },
    ]);
    expect(log.lines.filter((l) => l.message === 'bad MQTT payload').map((l) => l.meta)).toEqual([
      expect.objectContaining({ topic: `${prefix}/mymonit/vibrations/sensor-17/hertz`, reason: 'payload: neither a number nor JSON', payload: 'not a number' }),
      expect.objectContaining({ topic: `${prefix}/mymonit/black-holes/probe/watt`, reason: 'value: must be a finite number' }),
    ]);
    expect(b.stats).toMatchObject({ acknowledged: 5, appendedMessages: 3, badPayloads: 2 });
  });

  it('maps ThingsBoard telemetry with the experiment and source of its subscription', async () => {
    const prefix = unique('tb');
    const sink = new RecordingSink();
    const subs = parseSubscriptions(
      {
        subscriptions: [
          { topic: `${prefix}/v1/devices/me/telemetry`, format: 'thingsboard', experiment: 'greenhouse', source: 'tb-gateway-1' },
          { topic: `${prefix}/farm/+/telemetry`, format: 'thingsboard', experiment: 'farm', source: '{1}' },
        ],
      },
      'test',
    );
    const b = bridge(sink, subs);
    await b.start();
    const pub = await publisher();
    await pub.publishAsync(`${prefix}/v1/devices/me/telemetry`, JSON.stringify({ ts: 1451649600512, values: { temperature: 22.5, fan: true } }), qos1);
    await pub.publishAsync(
      `${prefix}/v1/devices/me/telemetry`,
      JSON.stringify([{ ts: 1451649601000, values: { temperature: 22.75 } }, { ts: 1451649602000, values: { humidity: '41.5' } }]),
      qos1,
    );
    await pub.publishAsync(`${prefix}/farm/pump-7/telemetry`, JSON.stringify({ ts: 1451649603000, values: { rpm: 1200 } }), qos1);
    await waitFor(() => b.stats.acknowledged === 3, 'three acknowledged messages');
    expect(sink.measures).toEqual([
      { experiment: 'greenhouse', source: 'tb-gateway-1', measure: 'temperature', value: 22.5, timestampUs: 1_451_649_600_512_000 },
      { experiment: 'greenhouse', source: 'tb-gateway-1', measure: 'fan', value: 1, timestampUs: 1_451_649_600_512_000 },
      { experiment: 'greenhouse', source: 'tb-gateway-1', measure: 'temperature', value: 22.75, timestampUs: 1_451_649_601_000_000 },
      { experiment: 'greenhouse', source: 'tb-gateway-1', measure: 'humidity', value: 41.5, timestampUs: 1_451_649_602_000_000 },
      { experiment: 'farm', source: 'pump-7', measure: 'rpm', value: 1200, timestampUs: 1_451_649_603_000_000 },
    ]);
  });

  it('does not acknowledge a QoS 1 message before the sink resolved: cut off while appending, it comes again', async () => {
    const prefix = unique('block');
    const proxy = await new TcpProxy(BROKER_HOST, BROKER_PORT).start();
    try {
      const sink = new RecordingSink();
      let release: () => void = () => undefined;
      sink.gate = new Promise<void>((resolve) => (release = resolve));
      const clientId = unique('bridge');
      const b = bridge(sink, mymonit(prefix), { url: `mqtt://${proxy.hostPort}`, clientId });
      await b.start();
      const pub = await publisher();
      await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: 1, timestamp: 1700000001 }), qos1);
      await waitFor(() => sink.appended.length === 1, 'the append to start');

      // The connection dies while the append is under way; the append then completes.
      proxy.cut();
      await waitFor(() => !b.taking, 'the bridge to notice');
      sink.gate = undefined;
      release();
      await new Promise((r) => setImmediate(r));
      expect(b.stats.acknowledged).toBe(0);

      // Back online, the broker sends the unacknowledged message again, and now it is acknowledged.
      proxy.restore();
      await waitFor(() => b.stats.acknowledged === 1, 'the redelivered message to be acknowledged');
      expect(sink.measures.map((m) => m.value)).toEqual([1, 1]);

      // Nothing more is owed: a new bridge on the same session gets only what is published next.
      await b.stop();
      const sink2 = new RecordingSink();
      const b2 = bridge(sink2, mymonit(prefix), { clientId });
      await b2.start();
      await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: 2, timestamp: 1700000002 }), qos1);
      await waitFor(() => b2.stats.acknowledged === 1, 'the next message');
      expect(sink2.measures.map((m) => m.value)).toEqual([2]);
    } finally {
      await proxy.stop();
    }
  });

  it('keeps messages published while the bridge was away (persistent session) and delivers the unacknowledged one again', async () => {
    const prefix = unique('session');
    const clientId = unique('bridge');
    const sink = new RecordingSink();
    let release: () => void = () => undefined;
    sink.gate = new Promise<void>((resolve) => (release = resolve));
    const b = bridge(sink, mymonit(prefix), { clientId, stopWaitMs: 200 });
    await b.start();
    const pub = await publisher();
    await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: 1, timestamp: 1700000001 }), qos1);
    await waitFor(() => sink.appended.length === 1, 'the append to start');
    // Stop gives up on the stuck append (after its bound) and leaves without acknowledging it.
    const stopping = b.stop();
    await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: 2, timestamp: 1700000002 }), qos1);
    await stopping;
    release();
    expect(b.stats.acknowledged).toBe(0);
    await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: 3, timestamp: 1700000003 }), qos1);

    const sink2 = new RecordingSink();
    const b2 = bridge(sink2, mymonit(prefix), { clientId });
    await b2.start();
    await waitFor(() => b2.stats.acknowledged === 3, 'three messages');
    expect(sink2.measures.map((m) => m.value)).toEqual([1, 2, 3]);
  });

  it('acknowledges nothing while the journal is full, pauses, and loses nothing once there is room', async () => {
    const prefix = unique('full');
    const sink = new RecordingSink();
    sink.full = true;
    const log = recordingLog();
    const b = bridge(sink, mymonit(prefix), {}, log);
    await b.start();
    const pub = await publisher();
    const values = Array.from({ length: 20 }, (_, i) => i);
    for (const v of values.slice(0, 10)) await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: v, timestamp: 1700000000 + v }), qos1);
    await waitFor(() => sink.fullRejections >= 2, 'the bridge to try again after a pause');
    expect(b.stats.acknowledged).toBe(0);
    expect(sink.appended).toEqual([]);
    expect(log.lines.find((l) => l.level === 'error')?.message).toMatch(/^journal full: MQTT message not acknowledged/);
    // More arrive while it is paused; then the journal has room again.
    for (const v of values.slice(10)) await pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: v, timestamp: 1700000000 + v }), qos1);
    sink.full = false;
    await waitFor(() => b.stats.acknowledged === 20, 'every message acknowledged');
    expect(sink.measures.map((m) => m.value)).toEqual(values);
    expect(b.stats.pauses).toBeGreaterThanOrEqual(2);
  });

  it('shares the subscriptions among several connections, each message taken once, and pauses them all when the journal is full', async () => {
    const prefix = unique('shared');
    const sink = new RecordingSink();
    const b = bridge(sink, mymonit(prefix), { connections: 3 });
    expect(b.clientIds).toHaveLength(3);
    await b.start();
    const pub = await publisher();
    const values = Array.from({ length: 60 }, (_, i) => i);
    await Promise.all(values.slice(0, 30).map((v) => pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: v, timestamp: 1700000000 + v }), qos1)));
    await waitFor(() => b.stats.acknowledged === 30, 'thirty acknowledged messages');
    expect(sink.measures.map((m) => m.value).sort((x, y) => x - y)).toEqual(values.slice(0, 30));
    sink.full = true;
    await Promise.all(values.slice(30).map((v) => pub.publishAsync(`${prefix}/mymonit/e/s/hertz`, JSON.stringify({ value: v, timestamp: 1700000000 + v }), qos1)));
    await waitFor(() => sink.fullRejections >= 1 && !b.taking, 'a pause');
    sink.full = false;
    await waitFor(() => b.stats.acknowledged === 60, 'every message acknowledged');
    // Messages in hand on the other connections when the pause came are delivered again: at least once, none lost.
    expect([...new Set(sink.measures.map((m) => m.value))].sort((x, y) => x - y)).toEqual(values);
  });

  it('skips a retained message without a timestamp, keeps one with, and takes QoS 0 messages too', async () => {
    const prefix = unique('retained');
    const pub = await publisher();
    const stale = `${prefix}/mymonit/e/s/hertz`;
    const stamped = `${prefix}/mymonit/e/s/watt`;
    await pub.publishAsync(stale, '99', { qos: 1, retain: true });
    await pub.publishAsync(stamped, JSON.stringify({ value: 5, timestamp: 1700000005 }), { qos: 1, retain: true });
    try {
      const sink = new RecordingSink();
      const b = bridge(sink, mymonit(prefix));
      await b.start();
      await waitFor(() => b.stats.acknowledged === 2, 'both retained messages');
      await pub.publishAsync(`${prefix}/mymonit/e/s/volt`, '230', { qos: 0 });
      await waitFor(() => b.stats.appendedMessages === 2, 'the QoS 0 message');
      expect(sink.measures.map((m) => [m.measure, m.value])).toEqual([
        ['watt', 5],
        ['volt', 230],
      ]);
      expect(b.stats.skippedRetained).toBe(1);
    } finally {
      await pub.publishAsync(stale, '', { qos: 1, retain: true });
      await pub.publishAsync(stamped, '', { qos: 1, retain: true });
    }
  });

  it('fails to start with a clear error when the broker cannot be reached', async () => {
    const b = bridge(new RecordingSink(), mymonit('x'), { url: 'mqtt://127.0.0.1:1' });
    await expect(b.start()).rejects.toThrow(/^cannot connect to the MQTT broker: .*ECONNREFUSED/);
  });
});

describe('mqtt adapter process → RabbitMQ → ingest → MariaDB', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let ingest: IngestProcess | undefined;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-adapter-mqtt-'));
    [db, vhost] = await Promise.all([createTestDatabase('adapter_mqtt'), createTestVhost('adapter_mqtt_e2e')]);
    await db.pool.query("INSERT INTO experiments (name) VALUES ('device-vibrations'), ('greenhouse')");
    ingest = await startIngest({ MYSQL_URL: db.url, AMQP_URL: vhost.url, INGEST_FLUSH_MS: '20' });
  });

  afterAll(async () => {
    ingest?.proc.kill('SIGTERM');
    await ingest?.exited;
    await Promise.all([db?.drop(), vhost?.delete()]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('stores what devices publish, reports bad payloads with topic and reason, and stops cleanly', async () => {
    const prefix = unique('e2e');
    const clientId = unique('bridge');
    sessions.add(clientId);
    const subsFile = path.join(tmp, 'subs.json');
    fs.writeFileSync(
      subsFile,
      JSON.stringify({
        subscriptions: [
          { topic: `${prefix}/mymonit/+/+/+` },
          { topic: `${prefix}/v1/devices/me/telemetry`, format: 'thingsboard', experiment: 'greenhouse', source: 'tb-1' },
        ],
      }),
    );
    const adapter = spawnNode('adapters/cli.js', { AMQP_URL: vhost.url }, [
      'mqtt',
      '--url',
      BROKER,
      '--client-id',
      clientId,
      '--config',
      subsFile,
      '--journal-dir',
      path.join(tmp, 'journal'),
    ]);
    try {
      const explain = (err: Error): never => {
        throw new Error(`${err.message}\n${adapter.output()}`);
      };
      await waitFor(() => adapter.output().includes('"message":"bridging MQTT"'), 'the bridge to start').catch(explain);
      const pub = await publisher();
      await pub.publishAsync(`${prefix}/mymonit/device-vibrations/sensor-17/hertz`, JSON.stringify({ value: 120, timestamp: 1649228940 }), qos1);
      await pub.publishAsync(`${prefix}/mymonit/device-vibrations/sensor-17/hertz`, 'NaN', qos1);
      await pub.publishAsync(`${prefix}/v1/devices/me/telemetry`, JSON.stringify({ ts: 1649228941250, values: { 'degree Celsius': 20.15 } }), qos1);
      await waitFor(async () => {
        const [rows] = await db.pool.query('SELECT COUNT(*) AS n FROM measures');
        return Number((rows as Array<{ n: number }>)[0].n) === 2;
      }, 'two stored measures').catch(explain);
    } finally {
      if (adapter.proc.exitCode === null) adapter.proc.kill('SIGTERM');
    }
    expect(await adapter.exited).toBe(0);
    const [rows] = await db.pool.query(
      `SELECT e.name AS experiment, t.name AS measure, m.source, m.ts, m.value
       FROM measures m JOIN experiments e ON e.id = m.experiment_id JOIN measure_types t ON t.id = m.measure_type_id
       ORDER BY m.ts`,
    );
    expect(rows).toEqual([
      { experiment: 'device-vibrations', measure: 'hertz', source: 'sensor-17', ts: '2022-04-06 07:09:00.000000', value: 120 },
      { experiment: 'greenhouse', measure: 'degree Celsius', source: 'tb-1', ts: '2022-04-06 07:09:01.250000', value: 20.15 },
    ]);
    const bad = adapter
      .output()
      .split('\n')
      .filter((l) => l.includes('"message":"bad MQTT payload"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bad).toEqual([
      expect.objectContaining({ topic: `${prefix}/mymonit/device-vibrations/sensor-17/hertz`, reason: 'payload: neither a number nor JSON', 'log.level': 'warn' }),
    ]);
  });
});
