import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { MeasurePublisher, PublisherClosedError, UnroutableError } from '../adapters/sdk/publisher';
import { TOPOLOGY } from '../services/shared/amqp-topology';
import type { Measure } from '../services/shared/measure-contract';
import { spawnNode, startIngest } from './support/processes';
import type { IngestProcess } from './support/processes';
import { count, createTestDatabase, createTestVhost, takeAll, waitFor } from './support/services';
import type { ReceivedMessage, TestDatabase, TestVhost } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/** The stdin adapter and the SDK publisher against the real RabbitMQ (and, end to end, ingest and MariaDB). */

let vhost: TestVhost;
let tmp: string;

beforeAll(async () => {
  vhost = await createTestVhost('adapter_stdin');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-adapter-stdin-'));
});

afterAll(async () => {
  await vhost?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await takeAll(vhost.url);
});

interface RunResult {
  readonly code: number | string;
  readonly output: string;
}

async function runAdapter(args: string[], input = '', env: Record<string, string> = { AMQP_URL: vhost.url }): Promise<RunResult> {
  const spawned = spawnNode('adapters/cli.js', env, ['stdin', ...args]);
  spawned.proc.stdin?.on('error', () => undefined); // the adapter may exit before reading (usage errors)
  spawned.proc.stdin?.end(input);
  const code = await spawned.exited;
  return { code, output: spawned.output() };
}



const allMeasures = (received: ReceivedMessage[]): Measure[] => received.flatMap((r) => r.measures);

describe('stdin adapter', () => {
  it('sends plain numbers stamped with the time they were read, and reports bad lines by number', async () => {
    const before = Date.now() * 1000;
    const { code, output } = await runAdapter(
      ['--experiment', 'device-vibrations', '--measure', 'hertz', '--source', 'sensor-17'],
      '1\n2.5\nabc\n\n-3e2\n0x10\n42',
    );
    const after = Date.now() * 1000;
    expect(output).toContain('line 3: value: must be a number, got "abc"');
    expect(output).toContain('line 6: value: must be a number, got "0x10"');
    expect(output).not.toMatch(/line [1245]:/);
    expect(output).toMatch(/sent 4 measures in \d+ messages, 2 lines rejected/);
    expect(code).toBe(1);

    const received = await takeAll(vhost.url);
    const measures = allMeasures(received);
    expect(measures.map((m) => ({ ...m, timestampUs: 0 }))).toEqual(
      [1, 2.5, -300, 42].map((value) => ({ experiment: 'device-vibrations', measure: 'hertz', value, timestampUs: 0, source: 'sensor-17' })),
    );
    for (const m of measures) {
      expect(m.timestampUs).toBeGreaterThanOrEqual(before - 1000);
      expect(m.timestampUs).toBeLessThanOrEqual(after + 1000);
    }
    for (const { properties } of received) {
      expect(properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2, userId: 'guest' });
      expect(properties.messageId).toEqual(expect.any(String));
    }
  });

  it('sends JSON lines with their exact timestamps and skips invalid ones', async () => {
    const lines = [
      { experiment: 'black-holes', measure: 'watt', value: -1.5, timestamp: 1700000000123, source: 's1' },
      { experiment: 'black-holes', measure: 'watt', value: 2.25, timestamp: '2023-11-14T23:13:20.654321+01:00' },
      { experiment: 'black-holes', measure: 'watt', value: 'high', timestamp: 1700000000 },
      { experiment: 'black-holes', measure: 'degree Celsius', value: 21, timestamp: 1700000000.5 },
    ].map((o) => JSON.stringify(o));
    lines.push('{"experiment": "black-holes", "measure"');
    const { code, output } = await runAdapter(['--format', 'jsonl'], `${lines.join('\n')}\n`);
    expect(output).toContain('line 3: value: must be a finite number');
    expect(output).toContain('line 5: invalid JSON:');
    expect(output).toMatch(/sent 3 measures in \d+ messages, 2 lines rejected/);
    expect(code).toBe(1);
    expect(allMeasures(await takeAll(vhost.url))).toEqual([
      { experiment: 'black-holes', measure: 'watt', value: -1.5, timestampUs: 1_700_000_000_123_000, source: 's1' },
      { experiment: 'black-holes', measure: 'watt', value: 2.25, timestampUs: 1_700_000_000_654_321, source: '' },
      { experiment: 'black-holes', measure: 'degree Celsius', value: 21, timestampUs: 1_700_000_000_500_000, source: '' },
    ]);
  });

  it('sends CSV read from --file, columns by header name, quoted fields, and exits 0', async () => {
    const file = path.join(tmp, 'readings.csv');
    fs.writeFileSync(
      file,
      [
        'source,timestamp,experiment,measure,value',
        '"rack 1, slot 2",1700000000,e-csv,volt,230.5',
        '"the ""best"" probe",2024-02-29T12:00:00.000001Z,e-csv,"degree Celsius",-4',
        ',1700000001,e-csv,volt,0',
        '',
      ].join('\r\n'),
    );
    const { code, output } = await runAdapter(['--format', 'csv', '--file', file, '--quiet']);
    expect(output).toMatch(/sent 3 measures in \d+ messages, 0 lines rejected/);
    expect(code).toBe(0);
    expect(allMeasures(await takeAll(vhost.url))).toEqual([
      { experiment: 'e-csv', measure: 'volt', value: 230.5, timestampUs: 1_700_000_000_000_000, source: 'rack 1, slot 2' },
      {
        experiment: 'e-csv',
        measure: 'degree Celsius',
        value: -4,
        timestampUs: Date.UTC(2024, 1, 29, 12) * 1000 + 1,
        source: 'the "best" probe',
      },
      { experiment: 'e-csv', measure: 'volt', value: 0, timestampUs: 1_700_000_001_000_000, source: '' },
    ]);
  });

  it('batches many lines into messages of at most --batch-size measures, in order', async () => {
    const n = 2500;
    const input = Array.from({ length: n }, (_, i) => JSON.stringify({ experiment: 'bulk', measure: 'hertz', value: i, timestamp: 1700000000 + i }));
    const { code, output } = await runAdapter(['--format', 'jsonl', '--batch-size', '1000'], input.join('\n'));
    expect(output).toMatch(/sent 2500 measures in \d+ messages, 0 lines rejected/);
    expect(code).toBe(0);
    const received = await takeAll(vhost.url);
    expect(received.length).toBeGreaterThanOrEqual(3);
    for (const r of received) expect(r.measures.length).toBeLessThanOrEqual(1000);
    expect(allMeasures(received).map((m) => m.value)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('sends a slow trickle without waiting for more input, and stops cleanly on SIGINT', async () => {
    const spawned = spawnNode('adapters/cli.js', { AMQP_URL: vhost.url }, ['stdin', '-e', 'trickle', '-m', 'hertz']);
    try {
      // One write, so both lines arrive in one read and go out in one message.
      spawned.proc.stdin?.write('1\n2\n');
      const received = await waitFor(async () => {
        const got = await takeAll(vhost.url);
        return got.length > 0 && got;
      }, 'the first lines to arrive');
      expect(allMeasures(received).map((m) => m.value)).toEqual([1, 2]);
      spawned.proc.kill('SIGINT');
      expect(await spawned.exited).toBe(0);
      expect(spawned.output()).toMatch(/sent 2 measures in 1 messages, 0 lines rejected \(interrupted before the end of the input\)/);
    } finally {
      if (spawned.proc.exitCode === null) spawned.proc.kill('SIGKILL');
    }
  });

  it('exits 2 when the broker returns its messages as unroutable, and says how many were not sent', async () => {
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.unbindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
    try {
      // --skip-declare, or the adapter would bind the queue again.
      const { code, output } = await runAdapter(['-e', 'e1', '-m', 'hertz', '--skip-declare'], '1\n2\n');
      expect(output).toMatch(/error: message \S+ was returned by the broker \(312 NO_ROUTE\)/);
      expect(output).toContain('sent 0 measures in 0 messages, 0 lines rejected, 2 measures NOT sent');
      expect(code).toBe(2);
    } finally {
      await ch.bindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
      await conn.close();
    }
  });

  it('exits 2 on usage errors, a CSV header it cannot use, and an unreachable broker', async () => {
    const missing = await runAdapter(['--experiment', 'e1'], '1\n');
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('the plain format needs --experiment and --measure');

    const header = await runAdapter(['--format', 'csv'], 'experiment,measure,value\ne,hertz,1\n');
    expect(header.code).toBe(2);
    expect(header.output).toContain('line 1: CSV header: missing column timestamp');

    const unreachable = await runAdapter(['-e', 'e1', '-m', 'hertz', '--amqp-url', 'amqp://guest:guest@127.0.0.1:1/x'], '1\n');
    expect(unreachable.code).toBe(2);
    expect(unreachable.output).toContain('cannot connect to the AMQP broker');
    expect(unreachable.output).not.toContain('guest:guest');

    expect(await takeAll(vhost.url)).toEqual([]);
  });
});

describe('MeasurePublisher', () => {
  const measure = (value: number): Measure => ({
    experiment: 'pub',
    measure: 'hertz',
    value,
    timestampUs: 1_700_000_000_000_000 + value,
    source: '',
  });

  it('splits a large publish into messages of at most maxMeasuresPerMessage and keeps a given message id', async () => {
    const publisher = await MeasurePublisher.connect({ url: vhost.url });
    try {
      await publisher.publish(Array.from({ length: 25_000 }, (_, i) => measure(i)));
      await publisher.publish([measure(-1)], { messageId: 'journal-7' });
    } finally {
      await publisher.close();
    }
    const received = await takeAll(vhost.url);
    expect(received.map((r) => r.measures.length)).toEqual([10_000, 10_000, 5_000, 1]);
    expect(received[3].properties.messageId).toBe('journal-7');
  });

  it('rejects a publish the broker returns as unroutable', async () => {
    const publisher = await MeasurePublisher.connect({ url: vhost.url });
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    await ch.unbindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
    try {
      await expect(publisher.publish([measure(1)])).rejects.toBeInstanceOf(UnroutableError);
      await expect(publisher.publish([measure(2)], { messageId: 'lost-1' })).rejects.toThrow(
        /message lost-1 was returned by the broker \(312 NO_ROUTE\)/,
      );
      // The channel survives a return: once routable again, publishing works.
      await ch.bindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
      await publisher.publish([measure(3)]);
    } finally {
      await ch.bindQueue(TOPOLOGY.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
      await conn.close();
      await publisher.close();
    }
    expect(allMeasures(await takeAll(vhost.url)).map((m) => m.value)).toEqual([3]);
  });

  it('rejects publishes once the connection is dead, and after close()', async () => {
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(vhost.url).port)).start();
    try {
      const publisher = await MeasurePublisher.connect({ url: vhost.urlVia(proxy.hostPort) });
      await publisher.publish([measure(1)]);
      proxy.cut();
      await waitFor(() => !publisher.open, 'publisher to notice the lost connection');
      await expect(publisher.publish([measure(2)])).rejects.toBeInstanceOf(PublisherClosedError);
      await expect(publisher.publish([measure(2)])).rejects.toThrow(/^AMQP publisher is closed: connection/);
      await publisher.close();

      // A publish awaiting its confirm when the connection dies rejects instead of hanging.
      proxy.restore();
      const inFlight = await MeasurePublisher.connect({ url: vhost.urlVia(proxy.hostPort) });
      const pending = inFlight.publish([measure(4)]);
      proxy.cut();
      await expect(pending).rejects.toBeInstanceOf(PublisherClosedError);
      await inFlight.close();

      const closed = await MeasurePublisher.connect({ url: vhost.url });
      await closed.close();
      await expect(closed.publish([measure(3)])).rejects.toBeInstanceOf(PublisherClosedError);
    } finally {
      await proxy.stop();
    }
    // The message cut off in flight never reached the broker through the cut proxy.
    expect(allMeasures(await takeAll(vhost.url)).map((m) => m.value)).toEqual([1]);
  });
});

describe('stdin adapter → RabbitMQ → ingest → MySQL', () => {
  let db: TestDatabase;
  let e2eVhost: TestVhost;
  let ingest: IngestProcess | undefined;

  beforeAll(async () => {
    [db, e2eVhost] = await Promise.all([createTestDatabase('adapter_stdin'), createTestVhost('adapter_stdin_e2e')]);
    await db.pool.query("INSERT INTO experiments (name) VALUES ('device-vibrations')");
    ingest = await startIngest({ MYSQL_URL: db.url, AMQP_URL: e2eVhost.url, INGEST_FLUSH_MS: '20' });
  });

  afterAll(async () => {
    ingest?.proc.kill('SIGTERM');
    await ingest?.exited;
    await Promise.all([db?.drop(), e2eVhost?.delete()]);
  });

  it('stores what the adapter sent, and ingest rejects the unknown experiment', async () => {
    const unknown = `no-such-experiment-${randomUUID()}`;
    const input = [
      '{"experiment":"device-vibrations","measure":"hertz","value":120,"timestamp":1649228940,"source":"s1"}',
      '{"experiment":"device-vibrations","measure":"hertz","value":121.5,"timestamp":"2022-04-06T07:09:01.250000Z","source":"s1"}',
      `{"experiment":"${unknown}","measure":"hertz","value":1,"timestamp":1649228940}`,
      '{"experiment":"device-vibrations","measure":"watt","value":-2,"timestamp":1649228942123}',
    ].join('\n');
    const { code, output } = await runAdapter(['--format', 'jsonl'], input, { AMQP_URL: e2eVhost.url });
    expect(output).toMatch(/sent 4 measures in \d+ messages, 0 lines rejected/);
    expect(code).toBe(0);

    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM measures')) === 3, 'three stored measures');
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM rejected_measures')) === 1, 'one rejection');
    const [rows] = await db.pool.query(
      `SELECT e.name AS experiment, t.name AS measure, m.source, m.ts, m.value
       FROM measures m JOIN experiments e ON e.id = m.experiment_id JOIN measure_types t ON t.id = m.measure_type_id
       ORDER BY m.ts`,
    );
    expect(rows).toEqual([
      { experiment: 'device-vibrations', measure: 'hertz', source: 's1', ts: '2022-04-06 07:09:00.000000', value: 120 },
      { experiment: 'device-vibrations', measure: 'hertz', source: 's1', ts: '2022-04-06 07:09:01.250000', value: 121.5 },
      { experiment: 'device-vibrations', measure: 'watt', source: '', ts: '2022-04-06 07:09:02.123000', value: -2 },
    ]);
    const [rejected] = await db.pool.query('SELECT reason, raw FROM rejected_measures');
    expect(rejected).toEqual([{ reason: 'unknown_experiment', raw: expect.stringContaining(unknown) }]);
  });
});
