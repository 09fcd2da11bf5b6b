import type { Pool } from '../db/src/pool';
import { FakeElasticsearch } from './support/fake-elasticsearch';
import { spawnNode } from './support/processes';
import type { Spawned } from './support/processes';
import { count, createTestDatabase, freePort, waitFor } from './support/services';
import type { TestDatabase } from './support/services';

/**
 * The built audit shipper against the real MariaDB and a fake Elasticsearch: every audit row
 * arrives once per _id, in id order, whatever happens in between (kill -9, outages, overload,
 * refused documents, several replicas). No timing assertions: every wait is for a state.
 */

const AUDIT = 'mymonit-audit-';
const DAY1 = Date.UTC(2026, 2, 1, 23, 50, 0);

interface ShipperProcess extends Spawned {
  readonly port: number;
  readyz(): Promise<{ status: number; reason?: string }>;
  metric(name: string): Promise<number>;
}

async function startShipper(db: TestDatabase, es: FakeElasticsearch, env: Record<string, string>): Promise<ShipperProcess> {
  const port = await freePort();
  const spawned = spawnNode('services/audit-shipper/main.js', {
    MYSQL_URL: db.url,
    ELASTICSEARCH_URL: es.url,
    ELASTICSEARCH_LOGS: 'off',
    ELASTICSEARCH_REQUEST_TIMEOUT_MS: '10000',
    AUDIT_SHIPPER_HTTP_PORT: String(port),
    AUDIT_SHIPPER_POLL_MS: '100',
    AUDIT_SHIPPER_MAX_BACKOFF_MS: '300',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const shipper: ShipperProcess = {
    ...spawned,
    port,
    readyz: async () => {
      const res = await fetch(`${base}/readyz`);
      const body = (await res.json()) as { reason?: string };
      return { status: res.status, reason: body.reason };
    },
    metric: async (name) => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line === undefined ? NaN : Number(line.split(' ').pop());
    },
  };
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, `shipper up\n${spawned.output()}`, 30_000);
  return shipper;
}

/** n audit rows, one a second from 2026-03-01 23:50:00 UTC: they straddle two daily indices. */
async function insertEvents(pool: Pool, n: number): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const rows: unknown[][] = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      const at = new Date(DAY1 + i * 1000).toISOString().replace('T', ' ').replace('Z', '');
      rows.push([
        at,
        `S${String(i % 7).padStart(3, '0')}`,
        `uid-${i % 7}`,
        i % 3 === 0 ? 'measures.read' : 'experiments.list',
        'experiment',
        String(i % 5),
        i % 4 === 0 ? 'denied' : 'success',
        i % 2 === 0 ? '10.0.0.7' : 'not-an-ip',
        `req-${i}`,
        JSON.stringify({ method: 'GET', path: `/measures/${i % 5}`, status: i % 4 === 0 ? 404 : 200 }),
      ]);
    }
    await pool.query(
      'INSERT INTO audit_events (occurred_at, actor_id, actor_uid, action, target_type, target_id, outcome, ip, request_id, details) VALUES ?',
      [rows],
    );
  }
}

async function idsWhere(pool: Pool, where: string): Promise<string[]> {
  const [rows] = await pool.query(`SELECT id FROM audit_events WHERE ${where} ORDER BY id`);
  return (rows as Array<{ id: number }>).map((r) => String(r.id));
}

function storedIds(es: FakeElasticsearch): Set<string> {
  return new Set(es.docs(AUDIT).map((d) => d.id));
}

/** Nothing marked shipped in MySQL that Elasticsearch has not stored. */
async function expectShippedAreStored(pool: Pool, es: FakeElasticsearch): Promise<number> {
  const shipped = await idsWhere(pool, 'shipped_at IS NOT NULL');
  const stored = storedIds(es);
  expect(shipped.filter((id) => !stored.has(id))).toEqual([]);
  return shipped.length;
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
}

async function stopGracefully(p: Spawned): Promise<number | string> {
  p.proc.kill('SIGTERM');
  return p.exited;
}

describe('audit shipper', () => {
  let db: TestDatabase;
  let es: FakeElasticsearch;
  const running: Spawned[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('audit_shipper');
    es = await new FakeElasticsearch().start();
  });

  afterEach(async () => {
    for (const p of running.splice(0)) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) {
        p.proc.kill('SIGKILL');
        await p.exited;
      }
    }
    await es.stop();
    await db.drop();
  });

  async function shipper(env: Record<string, string>): Promise<ShipperProcess> {
    const p = await startShipper(db, es, env);
    running.push(p);
    return p;
  }

  it('ships every row exactly once, in id order, across kill -9 and an Elasticsearch outage', async () => {
    const N = 3000;
    await insertEvents(db.pool, N);

    // 1. The fifth bulk request is stored but never answered; the shipper is killed while waiting.
    es.holdResponseAfterStoring = () => es.bulkRequests === 5;
    const first = await shipper({ AUDIT_SHIPPER_ID: 'shipper-a', AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await es.waitForHeldResponse();
    expect(await expectShippedAreStored(db.pool, es)).toBe(400);
    expect(storedIds(es).size).toBe(500);
    first.proc.kill('SIGKILL');
    await first.exited;
    es.holdResponseAfterStoring = undefined;

    // 2. Elasticsearch is down when the successor starts: it cannot even install its template.
    es.setDown(true);
    const second = await shipper({ AUDIT_SHIPPER_ID: 'shipper-a', AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await waitFor(async () => /Elasticsearch unreachable/.test((await second.readyz()).reason ?? ''), 'not ready: Elasticsearch unreachable');
    const refusedWhileStarting = es.refusedConnections;
    await waitFor(() => es.refusedConnections >= refusedWhileStarting + 3, 'retries while Elasticsearch is down');
    expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NOT NULL')).toBe(400);

    // 3. It comes back; mid-stream it goes away again, cutting a bulk request it had stored.
    es.holdResponseAfterStoring = () => {
      if (es.docs(AUDIT).length < 1500) return false;
      es.holdResponseAfterStoring = undefined;
      es.setDown(true);
      return true;
    };
    es.setDown(false);
    await waitFor(() => es.holdResponseAfterStoring === undefined, 'the second outage');
    const refusedInOutage = es.refusedConnections;
    await waitFor(() => es.refusedConnections >= refusedInOutage + 3, 'retries during the second outage');
    await waitFor(async () => (await second.readyz()).status === 503, 'not ready during the outage');
    await expectShippedAreStored(db.pool, es);
    // The rows of the cut request were counted as a failed attempt, with the reason.
    expect(await count(db.pool, "SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NULL AND ship_attempts > 0 AND ship_error LIKE 'Elasticsearch unreachable%'")).toBeGreaterThan(0);

    // 4. Back, but overloaded for two requests, then healthy.
    es.failNextRequests(429, 1);
    es.setDown(false);
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NOT NULL')) === N, 'every row shipped');
    await waitFor(async () => (await second.readyz()).status === 200, 'ready again');

    const docs = es.docs(AUDIT);
    expect(docs).toHaveLength(N);
    expect(storedIds(es)).toEqual(new Set(range(1, N)));
    // In order: each _id was first stored after every lower one.
    const firstOrder = es.firstStored.filter((k) => k.startsWith(AUDIT)).map((k) => Number(k.split('/')[1]));
    expect(firstOrder).toEqual(range(1, N).map(Number));
    // Each document sits in the index of its own UTC day, with its ECS fields.
    for (const d of docs) {
      const ts = String(d.source['@timestamp']);
      expect(d.index).toBe(`${AUDIT}${ts.slice(0, 10).replace(/-/g, '.')}`);
      expect(d.source).toMatchObject({ event: { id: d.id, dataset: 'mymonit.audit' }, http: { request: { id: expect.stringMatching(/^req-/) } } });
    }
    expect(new Set(docs.map((d) => d.index))).toEqual(new Set([`${AUDIT}2026.03.01`, `${AUDIT}2026.03.02`]));
    expect(es.templates.has('mymonit-audit')).toBe(true);
    expect(await second.metric('mymonit_audit_events_shipped_total')).toBe(N - 400);
    expect(await second.metric('mymonit_audit_events_failed_total{kind="request"')).toBeGreaterThan(0);
    expect(await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE claimed_by IS NOT NULL')).toBe(0);
    expect(await stopGracefully(second)).toBe(0);
  });

  it('retries items Elasticsearch pushed back, parks a refused document and lets the rest flow', async () => {
    const N = 500;
    await insertEvents(db.pool, N);
    const refused = '137';
    const overloaded = new Set(range(200, 209));
    es.itemFault = (item) => {
      if (item.id === refused) return { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [source.ip] of type [ip]' };
      if (overloaded.has(item.id) && item.previousArrivals < 2) return { status: 429, type: 'es_rejected_execution_exception', reason: 'queue full' };
      return undefined;
    };
    const p = await shipper({ AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NULL AND parked_at IS NULL')) === 0, 'nothing pending');

    expect(await idsWhere(db.pool, 'parked_at IS NOT NULL')).toEqual([refused]);
    const [parkedRows] = await db.pool.query('SELECT shipped_at, ship_attempts, ship_error FROM audit_events WHERE id = ?', [refused]);
    expect((parkedRows as Array<Record<string, unknown>>)[0]).toMatchObject({
      shipped_at: null,
      ship_attempts: 1,
      ship_error: expect.stringContaining('400 mapper_parsing_exception') as unknown,
    });
    expect(es.arrivals.get(`${AUDIT}2026.03.01/${refused}`)).toBe(1);
    const [retried] = await db.pool.query('SELECT ship_attempts, ship_error FROM audit_events WHERE id BETWEEN 200 AND 209');
    for (const r of retried as Array<Record<string, unknown>>) expect(r).toEqual({ ship_attempts: 2, ship_error: null });

    expect(await expectShippedAreStored(db.pool, es)).toBe(N - 1);
    expect(storedIds(es).has(refused)).toBe(false);
    expect(await p.metric('mymonit_audit_events_parked_total')).toBe(1);
    expect(await p.metric('mymonit_audit_events_failed_total{kind="item"')).toBe(20);
    await waitFor(async () => (await p.metric('mymonit_audit_parked_events')) === 1, 'parked gauge');
    expect((await p.readyz()).status).toBe(200);
    expect(await stopGracefully(p)).toBe(0);

    // An operator fixes the cause and clears parked_at: the row goes out like any other.
    es.itemFault = undefined;
    await db.pool.query('UPDATE audit_events SET parked_at = NULL WHERE id = ?', [refused]);
    await shipper({ AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NOT NULL')) === N, 'the unparked row shipped');
    expect(storedIds(es)).toEqual(new Set(range(1, N)));
  });

  it('never ships a row twice with two replicas at once', async () => {
    const N = 2000;
    await insertEvents(db.pool, N);
    // The first bulk request waits until a second one is in flight: the replicas provably overlap.
    es.holdBulkUntilConcurrent(2);
    const a = await shipper({ AUDIT_SHIPPER_ID: 'replica-1', AUDIT_SHIPPER_BATCH_SIZE: '50' });
    const b = await shipper({ AUDIT_SHIPPER_ID: 'replica-2', AUDIT_SHIPPER_BATCH_SIZE: '50' });
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NOT NULL')) === N, 'every row shipped');

    expect(es.maxConcurrentBulk).toBeGreaterThanOrEqual(2);
    const sentTwice = [...es.arrivals].filter(([, n]) => n !== 1).map(([key]) => key);
    expect(sentTwice).toEqual([]);
    expect(es.arrivals.size).toBe(N);
    expect(storedIds(es)).toEqual(new Set(range(1, N)));
    const shippedA = await a.metric('mymonit_audit_events_shipped_total');
    const shippedB = await b.metric('mymonit_audit_events_shipped_total');
    expect(shippedA + shippedB).toBe(N);
    expect(shippedA).toBeGreaterThan(0);
    expect(shippedB).toBeGreaterThan(0);
    expect(await stopGracefully(a)).toBe(0);
    expect(await stopGracefully(b)).toBe(0);
  });

  it('keeps a second process with the same name on standby, which takes over in order when the first dies', async () => {
    const N = 300;
    await insertEvents(db.pool, N);
    es.holdResponseAfterStoring = () => es.bulkRequests === 1;
    const first = await shipper({ AUDIT_SHIPPER_ID: 'same', AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await es.waitForHeldResponse();
    es.holdResponseAfterStoring = undefined;
    const standby = await shipper({ AUDIT_SHIPPER_ID: 'same', AUDIT_SHIPPER_BATCH_SIZE: '100' });
    await waitFor(async () => /standby/.test((await standby.readyz()).reason ?? ''), 'standby');
    expect(es.bulkRequests).toBe(1);

    first.proc.kill('SIGKILL');
    await first.exited;
    await waitFor(async () => (await count(db.pool, 'SELECT COUNT(*) AS n FROM audit_events WHERE shipped_at IS NOT NULL')) === N, 'every row shipped');
    const firstOrder = es.firstStored.map((k) => Number(k.split('/')[1]));
    expect(firstOrder).toEqual(range(1, N).map(Number));
    // Only the batch whose answer was lost went out twice.
    const sentTwice = [...es.arrivals].filter(([, n]) => n > 1).map(([key]) => Number(key.split('/')[1]));
    expect(sentTwice.sort((x, y) => x - y)).toEqual(range(1, 100).map(Number));
    expect(await stopGracefully(standby)).toBe(0);
  });

  it('refuses to start without ELASTICSEARCH_URL', async () => {
    const p = spawnNode('services/audit-shipper/main.js', { MYSQL_URL: db.url });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('ELASTICSEARCH_URL: is required by the audit shipper');
  });
});
