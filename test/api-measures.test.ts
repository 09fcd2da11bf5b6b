import fc from 'fast-check';
import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';

/**
 * Measures inserted straight into the database come back unchanged, in primary-key order
 * (timestamp, measure type, source), and keyset pages join up with no gap and no overlap.
 */

interface Expected {
  experiment: string;
  measure_type: string;
  timestamp: string;
  value: number;
  source: string;
}

let api: ApiHarness;
let scientist: TestUser;
let experiment: number;
let otherExperiment: number;
let typeIds: Map<string, number>;
const expected: Expected[] = [];

const TYPES = ['hertz', 'watt', 'volt'];
const SOURCES = ['', 'a', 'b-2', 'sensor-17'];

function auth() {
  return { authorization: `Bearer ${scientist.idToken}` };
}

function sortKey(m: Expected): [string, number, string] {
  return [m.timestamp, typeIds.get(m.measure_type)!, m.source];
}

function byKey(a: Expected, b: Expected): number {
  const [ta, ya, sa] = sortKey(a);
  const [tb, yb, sb] = sortKey(b);
  return ta < tb ? -1 : ta > tb ? 1 : ya - yb || (sa < sb ? -1 : sa > sb ? 1 : 0);
}

/** Follows Link rel="next" from `first` to the end; returns every row and the number of pages. */
async function readAll(first: string): Promise<{ rows: Expected[]; pages: number }> {
  const rows: Expected[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next) {
    const res = await api.request('GET', next, { headers: auth() });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json)).toBe(true);
    rows.push(...(res.json as Expected[]));
    pages++;
    const link = res.headers.get('link');
    if (link) expect(link).toMatch(/^<\/measures\/\d+\?[^>]*cursor=[A-Za-z0-9_-]+[^>]*>; rel="next"$/);
    next = link ? /^<([^>]+)>/.exec(link)![1] : undefined;
    if (pages > 500) throw new Error('pagination does not end');
  }
  return { rows, pages };
}

beforeAll(async () => {
  api = await startApi('api_measures', { API_PAGE_LIMIT_DEFAULT: '50', API_PAGE_LIMIT_MAX: '100' });
  scientist = await api.user('SCIENTIST');
  experiment = await api.experiment('measured');
  otherExperiment = await api.experiment('other-measured');
  await api.associate(experiment, scientist.id);
  const [types] = await api.db.pool.query('SELECT id, name FROM measure_types');
  typeIds = new Map((types as Array<{ id: number; name: string }>).map((t) => [t.name, t.id]));

  // 40 instants, some sharing a timestamp across types and sources, with microseconds.
  const rows: unknown[][] = [];
  const values = [0.1, -3.5e10, 1 / 3, 42, 1e-300, 123456.789012, -0, 2 ** 53];
  let n = 0;
  for (let i = 0; i < 40; i++) {
    const us = String((i * 7919) % 1_000_000).padStart(6, '0');
    const ts = `2022-04-06 07:${String(Math.floor(i / 2)).padStart(2, '0')}:${String((i % 2) * 30).padStart(2, '0')}.${us}`;
    for (const type of TYPES.slice(0, 1 + (i % 3))) {
      for (const source of SOURCES.slice(0, 1 + (i % 4))) {
        const value = values[n++ % values.length] + i;
        rows.push([experiment, ts, typeIds.get(type), source, value]);
        expected.push({ experiment: 'measured', measure_type: type, timestamp: `${ts.replace(' ', 'T')}Z`, value, source });
      }
    }
    rows.push([otherExperiment, ts, typeIds.get('hertz'), '', i]);
  }
  await api.db.pool.query('INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ?', [rows]);
  expected.sort(byKey);
});
afterAll(async () => {
  await api?.close();
});

test('everything comes back as inserted, in key order, with ISO-8601 microsecond timestamps', async () => {
  const res = await api.request('GET', `/measures/${experiment}?limit=100`, { headers: auth() });
  expect(res.status).toBe(200);
  expect(res.json).toEqual(expected.slice(0, 100));
  for (const m of res.json as Expected[]) expect(m.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  expect(res.headers.get('link')).toMatch(/rel="next"/);
});

test('without a limit, pages have the default size; the body stays an array', async () => {
  const res = await api.request('GET', `/measures/${experiment}`, { headers: auth() });
  expect(res.json).toHaveLength(50);
  const all = await readAll(`/measures/${experiment}`);
  expect(all.rows).toEqual(expected);
  expect(all.pages).toBe(Math.ceil(expected.length / 50));
});

test('a last page that ends exactly at the limit has no next link', async () => {
  const count = expected.filter((m) => m.source === 'sensor-17').length;
  const res = await api.request('GET', `/measures/${experiment}?limit=${count}&source=sensor-17`, { headers: auth() });
  expect(res.json).toHaveLength(count);
  expect(res.headers.get('link')).toBeNull();
});

/** Microseconds since the epoch of an ISO-8601 UTC timestamp with six decimals. */
function micros(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000) * 1e6 + Number(iso.slice(20, 26));
}
const ISO = (t: string) => t;
/** Epoch seconds with six decimals, e.g. 1649228400.007919. */
const EPOCH = (t: string) => `${Math.floor(Date.parse(t) / 1000)}.${t.slice(20, 26)}`;

test('pages of any size join up with no gap or overlap, under any filter', async () => {
  const instants = [...new Set(expected.map((m) => m.timestamp))];
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 23 }),
      fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
      fc.option(fc.constantFrom(...SOURCES), { nil: undefined }),
      fc.option(fc.constantFrom(...instants), { nil: undefined }),
      fc.option(fc.constantFrom(...instants), { nil: undefined }),
      fc.constantFrom(ISO, EPOCH),
      async (limit, measure, source, from, to, format) => {
        const q = new URLSearchParams({ limit: String(limit) });
        if (measure !== undefined) q.set('measure', measure);
        if (source !== undefined) q.set('source', source);
        if (from !== undefined) q.set('from', format(from));
        if (to !== undefined) q.set('to', format(to));
        const want = expected.filter(
          (m) =>
            (measure === undefined || m.measure_type === measure) &&
            (source === undefined || m.source === source) &&
            (from === undefined || micros(m.timestamp) >= micros(from)) &&
            (to === undefined || micros(m.timestamp) < micros(to)),
        );
        const got = await readAll(`/measures/${experiment}?${q.toString()}`);
        expect(got.rows).toEqual(want);
        // One row more than the limit is read, so a last page exactly `limit` long has no next link.
        expect(got.pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
      },
    ),
    { numRuns: 25 },
  );
});

test('a time window: from is inclusive, to is exclusive, offsets are honoured', async () => {
  const t0 = expected[0].timestamp;
  const res = await api.request('GET', `/measures/${experiment}?from=${encodeURIComponent(t0)}&to=${encodeURIComponent(t0)}`, { headers: auth() });
  expect(res.json).toEqual([]);
  const atT0 = expected.filter((m) => m.timestamp === t0);
  // The same instant written with a +02:00 offset; the unencoded + (a space once decoded) is read back too.
  const local = `2022-04-06T09:00:00.${t0.slice(20, 26)}+02:00`;
  const window = await api.request('GET', `/measures/${experiment}?from=${local}&to=2022-04-06T07:00:01Z`, { headers: auth() });
  expect(window.status).toBe(200);
  expect(window.json).toEqual(atT0);
});

test('every read is audited with what was asked', async () => {
  const res = await api.request('GET', `/measures/${experiment}?measure=watt&limit=3`, { headers: auth() });
  const [rows] = await api.db.pool.query(
    'SELECT actor_id, actor_uid, action, target_type, target_id, outcome, details FROM audit_events WHERE request_id = ?',
    [res.headers.get('x-request-id')],
  );
  const events = rows as Array<Record<string, string>>;
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    actor_id: scientist.id,
    actor_uid: scientist.uid,
    action: 'measures.read',
    target_type: 'experiment',
    target_id: String(experiment),
    outcome: 'success',
  });
  expect(JSON.parse(events[0].details)).toMatchObject({ filter: { measure: 'watt' }, limit: 3, after: null });
});

test('a page whose audit event cannot be written is not returned', async () => {
  // A trigger refuses the audit row of this one request (by its request id), as a full disk or a
  // lost connection would: the rows were read, but the client must get none of them.
  await api.db.pool.query(
    `CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events FOR EACH ROW
       IF NEW.request_id = 'audit-refused-1' THEN
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused by test';
       END IF`,
  );
  try {
    const res = await api.request('GET', `/measures/${experiment}?source=a&limit=5`, { headers: { ...auth(), 'x-request-id': 'audit-refused-1' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.text).not.toMatch(/"measure_type"|audit refused by test/);
    const ok = await api.request('GET', `/measures/${experiment}?source=a&limit=5`, { headers: auth() });
    expect(ok.status).toBe(200);
  } finally {
    await api.db.pool.query('DROP TRIGGER IF EXISTS audit_refused');
  }
});

test('another experiment’s rows never leak into a page', async () => {
  const all = await readAll(`/measures/${experiment}?limit=100`);
  expect(all.rows.every((m) => m.experiment === 'measured')).toBe(true);
});
