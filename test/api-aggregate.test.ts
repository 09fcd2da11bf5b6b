import fc from 'fast-check';
import { microsToIso, microsToSql } from '../services/shared/measure-contract';
import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';

/**
 * GET /measures/{id}/aggregate against a reference computed here from the very rows inserted:
 * random timestamps (with microseconds) and values, rows on and just before bucket edges, several
 * intervals, unaligned ranges, filters, function subsets, empty ranges and the validation rules.
 */

interface Row {
  us: number;
  type: string;
  source: string;
  value: number;
}

interface Bucket {
  bucket: string;
  measure_type: string;
  avg?: number;
  min?: number;
  max?: number;
  count?: number;
}

interface OpenApiDoc {
  paths: Record<string, { get: { operationId: string; description: string; parameters: Array<{ name: string; required: boolean }>; responses: Record<string, { content: object }> } }>;
}

const TYPES = ['hertz', 'watt', 'volt'];
const SOURCES = ['', 'a', 'b-2'];
const FNS = ['avg', 'min', 'max', 'count'] as const;
const SECOND = 1_000_000;
/** 2024-03-30T22:00:00Z: the data runs across UTC midnight (and a DST change in Europe). */
const T0 = Date.UTC(2024, 2, 30, 22) * 1000;
const SPAN = 4 * 3600 * SECOND;

let api: ApiHarness;
let scientist: TestUser;
let experiment: number;
let typeIds: Map<string, number>;
const rows: Row[] = [];

/** A small seeded generator, so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const auth = () => ({ authorization: `Bearer ${scientist.idToken}` });

interface Ask {
  measure?: string;
  source?: string;
  fromUs: number;
  toUs: number;
  intervalSeconds: number;
  fns: readonly (typeof FNS)[number][];
}

function reference(ask: Ask): Bucket[] {
  const width = ask.intervalSeconds * SECOND;
  const groups = new Map<string, { start: number; type: string; values: number[] }>();
  for (const r of rows) {
    if (r.us < ask.fromUs || r.us >= ask.toUs) continue;
    if (ask.measure !== undefined && r.type !== ask.measure) continue;
    if (ask.source !== undefined && r.source !== ask.source) continue;
    const start = Math.floor(r.us / width) * width;
    const key = `${start}/${r.type}`;
    const g = groups.get(key) ?? { start, type: r.type, values: [] };
    g.values.push(r.value);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => a.start - b.start || typeIds.get(a.type)! - typeIds.get(b.type)!)
    .map((g) => {
      const out: Bucket = { bucket: microsToIso(g.start), measure_type: g.type };
      if (ask.fns.includes('avg')) out.avg = g.values.reduce((s, v) => s + v, 0) / g.values.length;
      if (ask.fns.includes('min')) out.min = Math.min(...g.values);
      if (ask.fns.includes('max')) out.max = Math.max(...g.values);
      if (ask.fns.includes('count')) out.count = g.values.length;
      return out;
    });
}

function path(ask: Ask, interval: string, format: (us: number) => string = microsToIso): string {
  const q = new URLSearchParams({ from: format(ask.fromUs), to: format(ask.toUs), interval, fn: ask.fns.join(',') });
  if (ask.measure !== undefined) q.set('measure', ask.measure);
  if (ask.source !== undefined) q.set('source', ask.source);
  return `/measures/${experiment}/aggregate?${q.toString()}`;
}

/** Equal to the reference: exact counts, minima and maxima; averages to rounding (summation order differs). */
function expectMatches(got: Bucket[], want: Bucket[]): void {
  expect(got.map((b) => ({ ...b, avg: undefined }))).toEqual(want.map((b) => ({ ...b, avg: undefined })));
  got.forEach((b, i) => {
    expect(Object.keys(b).sort()).toEqual(Object.keys(want[i]).sort());
    const expected = want[i].avg;
    if (expected !== undefined) expect(Math.abs((b.avg ?? NaN) - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  });
}

async function aggregate(p: string): Promise<Bucket[]> {
  const res = await api.request('GET', p, { headers: auth() });
  expect({ status: res.status, body: res.status === 200 ? undefined : res.json }).toEqual({ status: 200, body: undefined });
  return res.json as Bucket[];
}

beforeAll(async () => {
  api = await startApi('api_aggregate');
  scientist = await api.user('SCIENTIST');
  experiment = await api.experiment('aggregated');
  const other = await api.experiment('aggregated-other');
  await api.associate(experiment, scientist.id);
  const [types] = await api.db.pool.query('SELECT id, name FROM measure_types');
  typeIds = new Map((types as Array<{ id: number; name: string }>).map((t) => [t.name, t.id]));

  const random = mulberry32(20240330);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const keys = new Set<string>();
  const add = (us: number, type: string, source: string, value: number): void => {
    const key = `${us}/${type}/${source}`;
    if (keys.has(key)) return;
    keys.add(key);
    rows.push({ us, type, source, value });
  };
  for (let i = 0; i < 4000; i++) {
    const value = random() < 0.1 ? Math.round((random() - 0.5) * 1e6) : (random() - 0.5) * 10 ** Math.floor(random() * 8);
    add(T0 + Math.floor(random() * SPAN), pick(TYPES), pick(SOURCES), value);
  }
  // On bucket edges of every interval tested, and one microsecond before them.
  for (let edge = T0; edge < T0 + SPAN; edge += 60 * SECOND) {
    add(edge, pick(TYPES), pick(SOURCES), random() * 100);
    add(edge - 1, pick(TYPES), pick(SOURCES), -random() * 100);
  }
  const values = rows.map((r) => [experiment, microsToSql(r.us), typeIds.get(r.type), r.source, r.value]);
  // Rows of another experiment at the same instants must never count.
  const noise = rows.slice(0, 500).map((r) => [other, microsToSql(r.us), typeIds.get(r.type), r.source, 1e9]);
  for (const chunk of [values.slice(0, 3000), values.slice(3000), noise]) {
    await api.db.pool.query('INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ?', [chunk]);
  }
});
afterAll(async () => {
  await api?.close();
});

test('one minute buckets of one measure type over the whole range match the reference', async () => {
  const ask: Ask = { measure: 'watt', fromUs: T0, toUs: T0 + SPAN, intervalSeconds: 60, fns: FNS };
  const got = await aggregate(path(ask, '1m'));
  expect(got.length).toBeGreaterThan(200);
  expectMatches(got, reference(ask));
  expect(got[0]).toEqual({
    bucket: expect.stringMatching(/^2024-03-30T22:00:00\.000000Z$/),
    measure_type: 'watt',
    avg: expect.any(Number),
    min: expect.any(Number),
    max: expect.any(Number),
    count: expect.any(Number),
  });
});

test('without a measure, one series per measure type, ordered by bucket then type', async () => {
  const ask: Ask = { fromUs: T0, toUs: T0 + SPAN, intervalSeconds: 900, fns: FNS };
  const got = await aggregate(path(ask, '15m'));
  expect(new Set(got.map((b) => b.measure_type))).toEqual(new Set(TYPES));
  expectMatches(got, reference(ask));
});

test('any interval, range, filter and subset of functions matches the reference', async () => {
  const intervals: Array<[string, number]> = [
    ['1s', 1],
    ['7s', 7],
    ['1m', 60],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['1d', 86_400],
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...intervals),
      fc.integer({ min: -SPAN / 8, max: SPAN }),
      fc.integer({ min: 1, max: SPAN }),
      fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
      fc.option(fc.constantFrom(...SOURCES), { nil: undefined }),
      fc.subarray([...FNS], { minLength: 1 }),
      fc.boolean(),
      async ([interval, seconds], offset, length, measure, source, fns, epoch) => {
        const ask: Ask = { measure, source, fromUs: T0 + offset, toUs: T0 + offset + length, intervalSeconds: seconds, fns };
        const buckets = Math.floor((ask.toUs - 1) / (seconds * SECOND)) - Math.floor(ask.fromUs / (seconds * SECOND)) + 1;
        // Epoch seconds with six decimals say the same instants as ISO-8601.
        const format = epoch ? (us: number) => (us / SECOND).toFixed(6) : microsToIso;
        const res = await api.request('GET', path(ask, interval, format), { headers: auth() });
        if (buckets > 10_000) {
          expect(res.status).toBe(400);
          expect(res.json.errors).toEqual([{ field: 'interval', message: expect.stringMatching(/at most 10000/) }]);
          return;
        }
        expect(res.status).toBe(200);
        expectMatches(res.json as Bucket[], reference(ask));
      },
    ),
    { numRuns: 60, seed: 7 },
  );
});

test('a row on a bucket edge opens the next bucket; one a microsecond earlier closes the previous one', async () => {
  const edge = T0 + 3600 * SECOND;
  const ask: Ask = { fromUs: edge - SECOND, toUs: edge + SECOND, intervalSeconds: 1, fns: ['count', 'min'] };
  const got = await aggregate(path(ask, '1s'));
  expectMatches(got, reference(ask));
  expect(got.map((b) => b.bucket)).toEqual(expect.arrayContaining(['2024-03-30T22:59:59.000000Z', '2024-03-30T23:00:00.000000Z']));
  // Bounds are exact to the microsecond: from is inclusive, to exclusive.
  const only = await aggregate(path({ ...ask, fromUs: edge, toUs: edge + 1 }, '1s'));
  expect(only.reduce((n, b) => n + b.count!, 0)).toBe(rows.filter((r) => r.us === edge).length);
});

test('day buckets start at UTC midnight', async () => {
  const ask: Ask = { measure: 'volt', fromUs: T0 - 86_400 * SECOND, toUs: T0 + SPAN, intervalSeconds: 86_400, fns: ['count'] };
  const got = await aggregate(path(ask, '1d'));
  expect(got.map((b) => b.bucket)).toEqual(['2024-03-30T00:00:00.000000Z', '2024-03-31T00:00:00.000000Z']);
  expectMatches(got, reference(ask));
});

test('an empty range, or filters matching nothing, give an empty array', async () => {
  expect(await aggregate(path({ fromUs: T0 - 3600 * SECOND, toUs: T0 - 1, intervalSeconds: 60, fns: FNS }, '1m'))).toEqual([]);
  expect(await aggregate(path({ source: 'nobody', fromUs: T0, toUs: T0 + SPAN, intervalSeconds: 3600, fns: FNS }, '1h'))).toEqual([]);
  expect(await aggregate(path({ measure: 'katal', fromUs: T0, toUs: T0 + SPAN, intervalSeconds: 3600, fns: FNS }, '1h'))).toEqual([]);
});

test('fn defaults to all four; functions come back as asked, once each', async () => {
  const all = await aggregate(`/measures/${experiment}/aggregate?from=${microsToIso(T0)}&to=${microsToIso(T0 + SPAN)}&interval=1h&measure=hertz`);
  expect(Object.keys(all[0]).sort()).toEqual(['avg', 'bucket', 'count', 'max', 'measure_type', 'min']);
  const some = await aggregate(`/measures/${experiment}/aggregate?from=${microsToIso(T0)}&to=${microsToIso(T0 + SPAN)}&interval=1h&fn=max,count,max`);
  expect(Object.keys(some[0]).sort()).toEqual(['bucket', 'count', 'max', 'measure_type']);
});

test.each([
  ['interval missing', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z', 'interval'],
  ['from missing', 'to=2024-03-31T00:00:00Z&interval=1m', 'from'],
  ['to missing', 'from=2024-03-30T22:00:00Z&interval=1m', 'to'],
  ['interval without unit', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=60', 'interval'],
  ['interval in weeks', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1w', 'interval'],
  ['interval zero', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=0m', 'interval'],
  ['fractional interval', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1.5h', 'interval'],
  ['interval over a year', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=367d', 'interval'],
  ['too many buckets', 'from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z&interval=1m', 'interval'],
  ['to before from', 'from=2024-03-31T00:00:00Z&to=2024-03-30T22:00:00Z&interval=1m', 'to'],
  ['to equal to from', 'from=2024-03-31T00:00:00Z&to=2024-03-31T00:00:00Z&interval=1m', 'to'],
  ['unknown function', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&fn=avg,sum', 'fn'],
  ['empty function list', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&fn=', 'fn'],
  ['bad from', 'from=yesterday&to=2024-03-31T00:00:00Z&interval=1m', 'from'],
  ['interval twice', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&interval=1h', 'interval'],
  ['unknown measure type', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&measure=furlong', 'measure'],
  ['unknown parameter', 'from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&group=source', 'group'],
  ['SQL in the source', "from=2024-03-30T22:00:00Z&to=2024-03-31T00:00:00Z&interval=1m&source=' OR 1=1 --" + 'x'.repeat(60), 'source'],
])('%s → 400 problem+json naming the field', async (_name, query, field) => {
  const res = await api.request('GET', `/measures/${experiment}/aggregate?${query}`, { headers: auth() });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect((res.json.errors as Array<{ field: string }>).map((e) => e.field)).toEqual([field]);
});

test('every aggregate read is audited with what was asked', async () => {
  const res = await api.request('GET', `/measures/${experiment}/aggregate?measure=watt&from=${microsToIso(T0)}&to=${microsToIso(T0 + SPAN)}&interval=1h&fn=count`, {
    headers: auth(),
  });
  const [events] = await api.db.pool.query('SELECT actor_id, action, target_type, target_id, outcome, details FROM audit_events WHERE request_id = ?', [
    res.headers.get('x-request-id'),
  ]);
  const list = events as Array<Record<string, string>>;
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ actor_id: scientist.id, action: 'measures.aggregate', target_type: 'experiment', target_id: String(experiment), outcome: 'success' });
  expect(JSON.parse(list[0].details)).toMatchObject({ filter: { measure: 'watt' }, interval_seconds: 3600, fn: ['count'], returned: 4 });
});

test('who may ask: an ADMIN gets 403, another scientist 404 (audited), no token 401', async () => {
  const q = `from=${microsToIso(T0)}&to=${microsToIso(T0 + SPAN)}&interval=1h`;
  const admin = await api.user('ADMIN');
  const other = await api.user('SCIENTIST');
  expect((await api.request('GET', `/measures/${experiment}/aggregate?${q}`)).status).toBe(401);
  expect((await api.request('GET', `/measures/${experiment}/aggregate?${q}`, { token: admin.idToken })).status).toBe(403);
  const hidden = await api.request('GET', `/measures/${experiment}/aggregate?${q}`, { token: other.idToken });
  expect(hidden.status).toBe(404);
  // Refused before the query is even read: an invalid one gets the same 404.
  expect((await api.request('GET', `/measures/${experiment}/aggregate?interval=bad`, { token: other.idToken })).status).toBe(404);
  const [events] = await api.db.pool.query('SELECT actor_id, action, outcome FROM audit_events WHERE request_id = ?', [hidden.headers.get('x-request-id')]);
  expect(events).toEqual([{ actor_id: other.id, action: 'measures.aggregate', outcome: 'denied' }]);
});

test('the route is in the OpenAPI document with its parameters', async () => {
  const doc = (await api.request('GET', '/openapi.json')).json as OpenApiDoc;
  const op = doc.paths['/measures/{experiment_id}/aggregate'].get;
  expect(op.operationId).toBe('measures.aggregate');
  expect(op.parameters.map((p) => [p.name, p.required])).toEqual([
    ['experiment_id', true],
    ['measure', false],
    ['source', false],
    ['from', true],
    ['to', true],
    ['interval', true],
    ['fn', false],
  ]);
  expect(Object.keys(op.responses['200'].content)).toEqual(['application/json']);
});
