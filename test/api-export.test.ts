import { buildMeasureStreamSql } from '../db/src/repositories/measure-read.repository';
import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';
import { waitFor } from './support/services';

/**
 * Streamed export of measures (Accept: text/csv or application/x-ndjson): every matching row, no
 * pages, the same values as the JSON API; a client that goes away stops the query on the server.
 */

let api: ApiHarness;
let scientist: TestUser;
let small: number;
let big: number;
const BIG_ROWS = 300_000;

const auth = (accept?: string) => ({ authorization: `Bearer ${scientist.idToken}`, ...(accept ? { accept } : {}) });

async function jsonAll(path: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await api.request('GET', next, { headers: auth() });
    rows.push(...(res.json as unknown[]));
    const link = res.headers.get('link');
    next = link ? /^<([^>]+)>/.exec(link)![1] : undefined;
  }
  return rows;
}

/** Parses the export's CSV (quoted fields, doubled quotes, CRLF) back into measure objects. */
function parseCsv(text: string): Array<Record<string, unknown>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else {
      field += c;
    }
  }
  const [header, ...rows] = records;
  expect(header).toEqual(['experiment', 'measure_type', 'timestamp', 'value', 'source']);
  return rows.map(([experiment, measure_type, timestamp, value, source]) => ({ experiment, measure_type, timestamp, value: Number(value), source }));
}

/** How an export's statement starts (its first selected column), as the repository writes it. */
const EXPORT_SQL_START = buildMeasureStreamSql({ experimentId: 1 }).sql.split(',')[0];

/** Queries of this test's database still running on the server. */
async function runningExports(): Promise<number> {
  const [rows] = await api.db.pool.query(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE CONCAT(?, '%') AND INFO NOT LIKE '%LIMIT%' AND COMMAND IN ('Query', 'Execute')",
    [EXPORT_SQL_START],
  );
  return Number((rows as Array<{ n: number }>)[0].n);
}

beforeAll(async () => {
  api = await startApi('api_export');
  scientist = await api.user('SCIENTIST');
  small = await api.experiment('export-small');
  big = await api.experiment('export-big');
  await api.associate(small, scientist.id);
  await api.associate(big, scientist.id);
  const [types] = await api.db.pool.query("SELECT id, name FROM measure_types WHERE name IN ('hertz', 'watt')");
  const id = new Map((types as Array<{ id: number; name: string }>).map((t) => [t.name, t.id]));
  const rows: unknown[][] = [];
  const sources = ['', 'plain', 'a,b', 'say "hi"', '=HYPERLINK("x")', '-1+2', 'line\nbreak', 'ünïcødé'];
  for (let i = 0; i < 120; i++) {
    const ts = `2023-01-01 00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i * 1001).padStart(6, '0')}`;
    rows.push([small, ts, id.get(i % 2 ? 'watt' : 'hertz'), sources[i % sources.length], i % 7 === 0 ? -i / 3 : i * 1.5]);
  }
  await api.db.pool.query('INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ?', [rows]);
  // 300,000 rows built on the server: ten digits cross-joined five times, times three sources.
  const digits = 'SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9';
  await api.db.pool.query(
    `INSERT INTO measures (experiment_id, ts, measure_type_id, source, value)
     SELECT ?, DATE_ADD('2023-01-01', INTERVAL (a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d) SECOND), ?, s.s,
            a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d
     FROM (${digits}) a CROSS JOIN (${digits}) b CROSS JOIN (${digits}) c CROSS JOIN (${digits}) e CROSS JOIN (${digits}) f
     CROSS JOIN (SELECT 's1' AS s UNION ALL SELECT 's2' UNION ALL SELECT 's3') s`,
    [big, id.get('hertz')],
  );
});
afterAll(async () => {
  await api?.close();
});

test('CSV holds exactly what the JSON pages hold, spreadsheet-safe', async () => {
  const res = await api.request('GET', `/measures/${small}`, { headers: auth('text/csv') });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
  expect(res.headers.get('link')).toBeNull();
  expect(res.headers.get('vary')).toMatch(/Accept/);
  const json = (await jsonAll(`/measures/${small}?limit=7`)) as Array<Record<string, unknown>>;
  expect(json).toHaveLength(120);
  const unformula = (s: unknown) => (typeof s === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
  expect(parseCsv(res.text)).toEqual(json.map((m) => ({ ...m, source: unformula(m.source) })));
  expect(res.text).toContain(`"'=HYPERLINK(""x"")"`);
});

test('NDJSON holds exactly what the JSON pages hold, one object per line', async () => {
  const res = await api.request('GET', `/measures/${small}?measure=watt`, { headers: auth('application/x-ndjson') });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  expect(res.text.endsWith('\n')).toBe(true);
  const lines = res.text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  expect(lines).toEqual(await jsonAll(`/measures/${small}?measure=watt&limit=13`));
});

test('filters, a cap and a cursor apply to exports as to pages', async () => {
  const page = await api.request('GET', `/measures/${small}?limit=10&source=plain`, { headers: auth() });
  const cursor = new URL(`http://x${/^<([^>]+)>/.exec(page.headers.get('link') ?? '<>')![1]}`).searchParams.get('cursor');
  expect(cursor).toBeTruthy();
  const res = await api.request('GET', `/measures/${small}?source=plain&cursor=${cursor}&limit=3`, { headers: auth('application/x-ndjson') });
  const rest = (await jsonAll(`/measures/${small}?source=plain&limit=100`)).slice(10, 13);
  expect(res.text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(rest);
  const none = await api.request('GET', `/measures/${small}?from=2030-01-01T00:00:00Z`, { headers: auth('text/csv') });
  expect(none.text).toBe('experiment,measure_type,timestamp,value,source\r\n');
});

test('HEAD of an export sends headers only and reads nothing', async () => {
  const res = await api.request('HEAD', `/measures/${big}`, { headers: auth('text/csv') });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(res.text).toBe('');
  expect(await runningExports()).toBe(0);
});

test('JSON stays the default, and is chosen by q-values', async () => {
  for (const accept of [undefined, '*/*', 'application/json', 'text/csv;q=0.5, application/json']) {
    const res = await api.request('GET', `/measures/${small}?limit=5`, { headers: auth(accept) });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json).toHaveLength(5);
  }
});

test('an export is audited before it starts; refusals stay problem+json', async () => {
  const res = await api.request('GET', `/measures/${small}?measure=hertz`, { headers: auth('text/csv') });
  const [rows] = await api.db.pool.query('SELECT action, outcome, details FROM audit_events WHERE request_id = ?', [res.headers.get('x-request-id')]);
  const events = rows as Array<{ action: string; outcome: string; details: string }>;
  expect(events.map((e) => [e.action, e.outcome])).toEqual([['measures.export', 'success']]);
  expect(JSON.parse(events[0].details)).toMatchObject({ format: 'csv', filter: { measure: 'hertz' } });

  const stranger = await api.user('SCIENTIST');
  const denied = await api.request('GET', `/measures/${small}`, { headers: { authorization: `Bearer ${stranger.idToken}`, accept: 'text/csv' } });
  expect(denied.status).toBe(404);
  expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const bad = await api.request('GET', `/measures/${small}?measure=furlong`, { headers: auth('text/csv') });
  expect(bad.status).toBe(400);
  expect(bad.json.errors).toEqual([{ field: 'measure', message: expect.any(String) }]);
});

test('a large export streams every row', async () => {
  const res = await fetch(`${api.baseUrl}/measures/${big}`, { headers: auth('application/x-ndjson') });
  expect(res.headers.get('content-length')).toBeNull();
  expect(res.headers.get('transfer-encoding')).toBe('chunked');
  let lines = 0;
  let last = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const text = last + decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    last = parts.pop() ?? '';
    lines += parts.length;
  }
  expect(last).toBe('');
  expect(lines).toBe(BIG_ROWS);
});

test('a client that goes away stops the query on the server, and frees its connection', async () => {
  for (let attempt = 0; attempt < 6; attempt++) {
    const controller = new AbortController();
    const res = await fetch(`${api.baseUrl}/measures/${big}`, { headers: auth('text/csv'), signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value as Uint8Array).startsWith('experiment,measure_type')).toBe(true);
    // The client stops reading: the server's query waits on backpressure, still running -- unless
    // the whole result already sits in the loopback socket buffers (they can hold megabytes), in
    // which case the abort below must still free the connection.
    await waitFor(async () => (await runningExports()) === 1, 'the export query to be running', 2_000).catch(() => undefined);
    controller.abort();
    await waitFor(async () => (await runningExports()) === 0, 'the export query to stop', 20_000);
  }
  // More aborted exports than the pool has connections: none leaked.
  const res = await api.request('GET', `/measures/${small}?limit=1`, { headers: auth() });
  expect(res.status).toBe(200);
});
