import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { influxPorts, spawnNode, startIngest } from './support/processes';
import type { IngestProcess, Spawned } from './support/processes';
import { count, createTestDatabase, createTestVhost, waitFor } from './support/services';
import type { TestDatabase, TestVhost } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/**
 * "Adapters that never lose a reading", end to end: influx adapter → (TCP proxy) → RabbitMQ →
 * the real ingest process → MariaDB. A 30 s broker outage, a kill -9 mid-stream and a full
 * journal each end with every accepted reading stored exactly once.
 */

let db: TestDatabase;
let vhost: TestVhost;
let ingest: IngestProcess | undefined;
let tmp: string;
const cleanups: Array<() => Promise<void>> = [];

const EXPERIMENTS = ['influx-outage', 'influx-crash', 'influx-full'] as const;
const T0_MS = 1_700_000_000_000;

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase('adapter_influx'), createTestVhost('adapter_influx_e2e')]);
  await db.pool.query(`INSERT INTO experiments (name) VALUES ${EXPERIMENTS.map(() => '(?)').join(', ')}`, [...EXPERIMENTS]);
  ingest = await startIngest({ MYSQL_URL: db.url, AMQP_URL: vhost.url, INGEST_FLUSH_MS: '20' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-influx-resilience-'));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  ingest?.proc.kill('SIGTERM');
  await ingest?.exited;
  await Promise.all([db?.drop(), vhost?.delete()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

interface InfluxProcess extends Spawned {
  readonly port: number;
  readonly base: string;
  readonly metrics: string;
}

async function startInflux(amqpUrl: string, journalDir: string, extra: string[] = [], port = 0): Promise<InfluxProcess> {
  const spawned = spawnNode('adapters/cli.js', { AMQP_URL: amqpUrl, LOG_LEVEL: 'info' }, [
    'influx',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--metrics-port',
    '0',
    '--journal-dir',
    journalDir,
    '--allow-anonymous',
    ...extra,
  ]);
  const { port: httpPort, metricsPort } = await influxPorts(spawned);
  const p = { ...spawned, port: httpPort, base: `http://127.0.0.1:${httpPort}`, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
  cleanups.push(async () => {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGTERM');
      await p.exited;
    }
  });
  return p;
}

async function startProxy(): Promise<TcpProxy> {
  const proxy = await new TcpProxy('127.0.0.1', Number(new URL(vhost.url).port)).start();
  cleanups.push(() => proxy.stop());
  return proxy;
}

/** Body b of `perBody` readings for an experiment: reading i has source s<i%8>, time T0+i ms, value i. */
function body(b: number, perBody: number): string {
  const lines: string[] = [];
  for (let k = 0; k < perBody; k++) {
    const i = b * perBody + k;
    lines.push(`sensor,source=s${i % 8} hertz=${i} ${T0_MS + i}`);
  }
  return lines.join('\n');
}

async function write(base: string, experiment: string, text: string): Promise<Response> {
  return fetch(`${base}/write?db=${experiment}&precision=ms`, { method: 'POST', body: text });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+]+)$`, 'm').exec(text);
  return Number(m?.[1] ?? NaN);
}

interface Stored {
  readonly rows: number;
  readonly distinctKeys: number;
  readonly sum: number;
}

async function stored(experiment: string): Promise<Stored> {
  const [rows] = await db.pool.query(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT m.source, m.ts) AS k, COALESCE(SUM(m.value), 0) AS s
     FROM measures m JOIN experiments e ON e.id = m.experiment_id WHERE e.name = ?`,
    [experiment],
  );
  const r = (rows as Array<{ n: number | string; k: number | string; s: number | string }>)[0];
  return { rows: Number(r.n), distinctKeys: Number(r.k), sum: Number(r.s) };
}

/** Waits for n readings 0..n-1 in the experiment, then checks each is there exactly once with its value. */
async function expectStoredExactly(experiment: string, n: number): Promise<void> {
  await waitFor(async () => (await stored(experiment)).rows >= n, `${n} rows of ${experiment}`, 120_000, 250);
  // Values are 0..n-1, one per (source, time): the sum proves every value is the right one.
  expect(await stored(experiment)).toEqual({ rows: n, distinctKeys: n, sum: (n * (n - 1)) / 2 });
  const [minMax] = await db.pool.query(
    `SELECT MIN(m.value) AS lo, MAX(m.value) AS hi FROM measures m JOIN experiments e ON e.id = m.experiment_id WHERE e.name = ?`,
    [experiment],
  );
  expect((minMax as Array<{ lo: number; hi: number }>)[0]).toEqual({ lo: 0, hi: n - 1 });
  expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM rejected_measures')).toBe(0);
}

describe('influx adapter → RabbitMQ → ingest → MySQL', () => {
  it('keeps 20,000 readings through a 30 s broker outage and stores each exactly once', async () => {
    const proxy = await startProxy();
    const adapter = await startInflux(vhost.urlVia(proxy.hostPort), path.join(tmp, 'outage'));
    const PER_BODY = 500;
    const BODIES = 40;
    const statuses: number[] = [];
    let b = 0;
    const send = async (n: number, pauseMs = 0): Promise<void> => {
      for (const end = b + n; b < end; b++) {
        statuses.push((await write(adapter.base, 'influx-outage', body(b, PER_BODY))).status);
        if (pauseMs) await sleep(pauseMs);
      }
    };
    await send(10);
    proxy.cut();
    const cutAt = Date.now();
    // Half the readings arrive while the broker is unreachable, spread over the outage.
    await send(20, 1_200);
    await waitFor(async () => (await metric(adapter.metrics, 'mymonit_adapter_broker_connected')) === 0, 'the forwarder to see the outage');
    expect(await metric(adapter.metrics, 'mymonit_adapter_journal_unsent_bytes')).toBeGreaterThan(0);
    await sleep(Math.max(0, 30_000 - (Date.now() - cutAt)));
    proxy.restore();
    await send(10);
    expect(statuses).toEqual(Array(BODIES).fill(204));

    await expectStoredExactly('influx-outage', BODIES * PER_BODY);
    await waitFor(async () => (await metric(adapter.metrics, 'mymonit_adapter_journal_unsent_bytes')) === 0, 'the journal to drain');
    expect(await metric(adapter.metrics, 'mymonit_adapter_broker_connects_total')).toBeGreaterThanOrEqual(2);
  });

  it('loses nothing when the adapter is killed with SIGKILL mid-stream and restarted on the same journal', async () => {
    const proxy = await startProxy();
    const journalDir = path.join(tmp, 'crash');
    let adapter = await startInflux(vhost.urlVia(proxy.hostPort), journalDir);
    const port = adapter.port;
    const PER_BODY = 250;
    const BODIES = 40;
    let acked = 0;
    let retries = 0;
    let base = adapter.base;
    // A client like Telegraf: a body is sent again until it is answered 204.
    const sender = (async () => {
      for (let b = 0; b < BODIES; b++) {
        for (;;) {
          const status = await write(base, 'influx-crash', body(b, PER_BODY)).then(
            (r) => r.status,
            () => 0,
          );
          if (status === 204) break;
          retries++;
          await sleep(100);
        }
        acked++;
        // A steady stream rather than a burst, so the kill falls in the middle of it.
        await sleep(50);
      }
    })();
    await waitFor(() => acked >= 10, 'the first bodies');
    // Nothing more reaches the broker: what is accepted from now on lives only in the journal.
    proxy.cut();
    await waitFor(() => acked >= 16, 'more bodies journaled');
    adapter.proc.kill('SIGKILL');
    expect(await adapter.exited).toBe('SIGKILL');
    proxy.restore();
    adapter = await startInflux(vhost.urlVia(proxy.hostPort), journalDir, [], port);
    base = adapter.base;
    await sender;
    expect(acked).toBe(BODIES);
    expect(retries).toBeGreaterThan(0);
    // The restarted adapter found readings that had been acknowledged but not yet sent.
    const opened = /"message":"journal opened".*/.exec(adapter.output())?.[0] ?? '';
    expect(Number(/"unsentBytes":(\d+)/.exec(opened)?.[1])).toBeGreaterThan(0);

    await expectStoredExactly('influx-crash', BODIES * PER_BODY);
  });

  it('answers 503 with Retry-After when the journal is full, and stores everything it accepted', async () => {
    const proxy = await startProxy();
    const adapter = await startInflux(vhost.urlVia(proxy.hostPort), path.join(tmp, 'full'), ['--journal-max-bytes', '256K']);
    await waitFor(async () => (await metric(adapter.metrics, 'mymonit_adapter_broker_connected')) === 1, 'the first connection');
    proxy.cut();
    const PER_BODY = 200;
    const accepted: number[] = [];
    const refused: number[] = [];
    let b = 0;
    for (; refused.length < 3 && b < 100; b++) {
      const res = await write(adapter.base, 'influx-full', body(b, PER_BODY));
      if (res.status === 204) {
        accepted.push(b);
        continue;
      }
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await res.json()) as { error: string }).error).toMatch(/journal is full/);
      refused.push(b);
    }
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused).toHaveLength(3);
    expect(await metric(adapter.metrics, 'mymonit_adapter_journal_full_rejections_total')).toBeGreaterThan(0);
    const health = await fetch(`${adapter.base}/health`);
    expect(health.status).toBe(200);

    proxy.restore();
    // Only the bodies accepted before the 503s are in the journal, so they arrive first.
    await waitFor(async () => (await stored('influx-full')).rows >= accepted.length * PER_BODY, 'the accepted readings', 120_000, 250);
    // The client retries what was refused, as Telegraf does after Retry-After, until there is room.
    for (const r of refused) {
      await waitFor(async () => (await write(adapter.base, 'influx-full', body(r, PER_BODY))).status === 204, `body ${r} to be accepted`, 60_000, 200);
    }
    await expectStoredExactly('influx-full', b * PER_BODY);
  });
});
