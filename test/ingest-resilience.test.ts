import type { Pool } from '../db/src/pool';
import { startIngest } from './support/processes';
import type { IngestProcess } from './support/processes';
import { count, createTestDatabase, createTestVhost, MYSQL_ROOT, publishBodies, queueDepth, waitFor } from './support/services';
import type { TestDatabase, TestVhost } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Crashes, outages and shutdown against the real services: nothing lost, nothing duplicated.
 * Each test uses its own experiment, so counts never mix.
 */

let db: TestDatabase;
let vhost: TestVhost;
let pool: Pool;
const running = new Set<IngestProcess>();

beforeAll(async () => {
  [db, vhost] = await Promise.all([createTestDatabase('resilience'), createTestVhost('resilience')]);
  pool = db.pool;
  await pool.query("INSERT INTO experiments (name) VALUES ('crash'), ('mysql-outage'), ('amqp-outage'), ('sigterm')");
});

afterAll(async () => {
  for (const p of running) p.proc.kill('SIGKILL');
  await Promise.all([db?.drop(), vhost?.delete()]);
});

async function ingest(env: Record<string, string> = {}): Promise<IngestProcess> {
  const p = await startIngest({ MYSQL_URL: db.url, AMQP_URL: vhost.url, ...env });
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

/**
 * n distinct points of one experiment, value i at second 1000 + i/1000, in messages of `per`
 * measures; with `bad`, each message also carries one measure of an unknown type.
 */
function messages(experiment: string, n: number, per: number, bad = false, from = 0): string[] {
  const out: string[] = [];
  for (let start = from; start < from + n; start += per) {
    const batch = [];
    for (let i = start; i < Math.min(from + n, start + per); i++) {
      batch.push({ experiment, measure: 'hertz', value: i, timestamp: 1000 + i / 1000, source: `s${i % 7}` });
    }
    if (bad) batch.push({ experiment, measure: 'furlong', value: start, timestamp: 1000, source: '' });
    out.push(JSON.stringify(batch));
  }
  return out;
}

const rows = (experiment: string): Promise<number> =>
  count(pool, 'SELECT COUNT(*) AS n FROM measures m JOIN experiments e ON e.id = m.experiment_id WHERE e.name = ?', [experiment]);

async function expectExactly(experiment: string, n: number): Promise<void> {
  const [r] = await pool.query(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT m.ts, m.source) AS d, SUM(m.value) AS s
     FROM measures m JOIN experiments e ON e.id = m.experiment_id WHERE e.name = ?`,
    [experiment],
  );
  const { n: total, d, s } = (r as Array<{ n: number; d: number; s: number }>)[0];
  expect(Number(total)).toBe(n);
  expect(Number(d)).toBe(n);
  expect(Number(s)).toBe((n * (n - 1)) / 2);
}

it('loses nothing and duplicates nothing when ingest is killed with SIGKILL mid-stream', async () => {
  const total = 200_000;
  await publishBodies(vhost.url, messages('crash', total, 10));
  const first = await ingest();
  await waitFor(async () => (await rows('crash')) > total * 0.2, 'some rows stored', 120_000, 20);
  first.proc.kill('SIGKILL');
  await first.exited;
  const atCrash = await rows('crash');
  expect(atCrash).toBeLessThan(total);

  const second = await ingest();
  await waitFor(async () => (await rows('crash')) === total && (await queueDepth(vhost.url)) === 0, 'all rows', 180_000, 200);
  await expectExactly('crash', total);
  second.proc.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});

it('survives a MySQL outage mid-stream: not ready meanwhile, then catches up with nothing lost', async () => {
  const proxy = await new TcpProxy('127.0.0.1', 3306).start();
  const url = db.url.replace(new URL(MYSQL_ROOT).host, proxy.hostPort);
  const p = await ingest({ MYSQL_URL: url });
  try {
    const total = 30_000;
    const all = messages('mysql-outage', total, 10, true);
    await publishBodies(vhost.url, all.slice(0, 1000));
    await waitFor(async () => (await rows('mysql-outage')) > 0, 'first rows');
    proxy.cut();
    const publishing = publishBodies(vhost.url, all.slice(1000));
    await waitFor(async () => (await p.readyz()) === 503, 'readyz 503 while MySQL is away', 30_000);
    await publishing;
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await p.readyz()).toBe(503);
    proxy.restore();
    await waitFor(async () => (await p.readyz()) === 200, 'ready again', 30_000);
    await waitFor(async () => (await rows('mysql-outage')) === total, 'all rows after the outage', 120_000, 200);
    await expectExactly('mysql-outage', total);
    // Rejections have no natural key: a batch whose COMMIT reply was lost must not write them twice.
    expect(
      await count(pool, "SELECT COUNT(*) AS n FROM rejected_measures WHERE reason = 'unknown_measure_type' AND raw LIKE '%mysql-outage%'"),
    ).toBe(all.length);
  } finally {
    p.proc.kill('SIGTERM');
    await p.exited;
    await proxy.stop();
  }
});

it('survives a RabbitMQ outage mid-stream: not ready meanwhile, reconnects by itself, nothing lost', async () => {
  const proxy = await new TcpProxy('127.0.0.1', 5672).start();
  const p = await ingest({ AMQP_URL: vhost.urlVia(proxy.hostPort) });
  try {
    const total = 30_000;
    const all = messages('amqp-outage', total, 10);
    await publishBodies(vhost.url, all.slice(0, 1000));
    await waitFor(async () => (await rows('amqp-outage')) > 0, 'first rows');
    proxy.cut();
    await waitFor(async () => (await p.readyz()) === 503, 'readyz 503 while RabbitMQ is away', 30_000);
    // Published straight to the broker while ingest cannot reach it.
    await publishBodies(vhost.url, all.slice(1000));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await p.readyz()).toBe(503);
    proxy.restore();
    await waitFor(async () => (await p.readyz()) === 200, 'ready again', 30_000);
    await waitFor(async () => (await rows('amqp-outage')) === total, 'all rows after the outage', 120_000, 200);
    await expectExactly('amqp-outage', total);
  } finally {
    p.proc.kill('SIGTERM');
    await p.exited;
    await proxy.stop();
  }
});

it('on SIGTERM during a stream drains its batch, acks, and exits 0 within a few seconds', async () => {
  const total = 100_000;
  await publishBodies(vhost.url, messages('sigterm', total, 10));
  const p = await ingest();
  await waitFor(async () => (await rows('sigterm')) > 0, 'first rows', 60_000, 10);
  const sentAt = Date.now();
  p.proc.kill('SIGTERM');
  expect(await p.exited).toBe(0);
  expect(Date.now() - sentAt).toBeLessThan(10_000);
  // Whatever it stored was acked and whatever it did not store is still queued: the two add up.
  // (A quorum queue applies acks through its Raft log, so its count can lag a moment.)
  const stored = await rows('sigterm');
  expect(stored).toBeGreaterThan(0);
  await waitFor(async () => stored + (await queueDepth(vhost.url)) * 10 === total, 'stored + queued = published', 10_000);

  const next = await ingest();
  await waitFor(async () => (await rows('sigterm')) === total, 'the rest', 120_000, 200);
  await expectExactly('sigterm', total);
  next.proc.kill('SIGTERM');
  expect(await next.exited).toBe(0);
});
