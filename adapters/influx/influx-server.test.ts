import { gzipSync } from 'node:zlib';
import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from '../sdk/durable-sink';
import type { DurableSink } from '../sdk/durable-sink';
import { Authenticator } from './influx-auth';
import type { MeasureNaming } from './influx-measures';
import { InfluxServer } from './influx-server';

const NOW_US = 1_700_000_000_123_456;
const TOKEN = 'token-for-site-a-0123456789';
const OPEN_TOKEN = 'token-for-everything-0123456';

class FakeSink implements DurableSink {
  readonly appends: Measure[][] = [];
  failWith: Error | undefined;

  append(measures: readonly Measure[]): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.appends.push([...measures]);
    return Promise.resolve();
  }

  get measures(): Measure[] {
    return this.appends.flat();
  }
}

interface Harness {
  readonly base: string;
  readonly sink: FakeSink;
  close(): Promise<void>;
}

async function start(opts: { naming?: MeasureNaming; maxBodyBytes?: number; auth?: Authenticator } = {}): Promise<Harness> {
  const sink = new FakeSink();
  const server = new InfluxServer({
    sink,
    auth:
      opts.auth ??
      Authenticator.fromConfig({
        tokens: [
          { token: TOKEN, experiments: ['site-a'] },
          { token: OPEN_TOKEN, experiments: undefined },
        ],
        users: [{ username: 'telegraf', password: 'telegraf-password', experiments: undefined }],
      }),
    maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
    naming: opts.naming ?? 'field',
    nowUs: () => NOW_US,
  });
  const port = await server.listen(0, '127.0.0.1');
  return { base: `http://127.0.0.1:${port}`, sink, close: () => server.close() };
}

let h: Harness;
beforeEach(async () => {
  h = await start();
});
afterEach(async () => {
  await h.close();
});

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function write(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${h.base}${path}`, { method: 'POST', body, headers: { authorization: `Token ${OPEN_TOKEN}`, ...headers } });
}

const measure = (measureName: string, value: number, timestampUs: number, source = '', experiment = 'exp'): Measure => ({
  experiment,
  measure: measureName,
  value,
  timestampUs,
  source,
});

describe('InfluxServer writes', () => {
  it('stores v1 writes: db → experiment, field → measure type, tags → source, ns → µs', async () => {
    const res = await write('/write?db=exp', 'cpu,host=a,region=eu usage=0.5,idle=99i 1700000000000000999\nmem,source=rack-1 used=12u,ok=true\n');
    expect(res.status).toBe(204);
    expect(res.headers.get('x-influxdb-version')).toBe('1.8.10');
    expect(h.sink.measures).toEqual([
      measure('usage', 0.5, 1_700_000_000_000_000, 'host=a,region=eu'),
      measure('idle', 99, 1_700_000_000_000_000, 'host=a,region=eu'),
      measure('used', 12, NOW_US, 'rack-1'),
      measure('ok', 1, NOW_US, 'rack-1'),
    ]);
  });

  it('stores v2 writes to the bucket with a Token, in every precision', async () => {
    for (const [precision, ts] of [
      ['ns', '1700000000000000000'],
      ['us', '1700000000000000'],
      ['ms', '1700000000000'],
      ['s', '1700000000'],
    ]) {
      const res = await write(`/api/v2/write?org=o&bucket=b2&precision=${precision}`, `m v=1 ${ts}`);
      expect(res.status).toBe(204);
    }
    expect(h.sink.measures.map((m) => [m.experiment, m.timestampUs])).toEqual(Array(4).fill(['b2', 1_700_000_000_000_000]));
    const bad = await write('/api/v2/write?bucket=b2&precision=h', 'm v=1 1');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: 'invalid', message: 'invalid precision "h": use ns, us, ms or s' });
  });

  it('takes every v1 precision', async () => {
    const cases: Array<[string, string, number]> = [
      ['n', '1700000000123456789', 1_700_000_000_123_456],
      ['u', '1700000000123456', 1_700_000_000_123_456],
      ['ms', '1700000000123', 1_700_000_000_123_000],
      ['s', '1700000000', 1_700_000_000_000_000],
      ['m', '28333333', 28_333_333 * 60_000_000],
      ['h', '472222', 472_222 * 3_600_000_000],
    ];
    for (const [precision, ts] of cases) expect((await write(`/write?db=exp&precision=${precision}`, `m v=1 ${ts}`)).status).toBe(204);
    expect(h.sink.measures.map((m) => m.timestampUs)).toEqual(cases.map(([, , us]) => us));
  });

  it('gunzips gzip bodies', async () => {
    const res = await write('/api/v2/write?bucket=exp', gzipSync('m v=1 1\nm v=2 2'), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(204);
    expect(h.sink.measures.map((m) => m.value)).toEqual([1, 2]);
    const broken = await write('/api/v2/write?bucket=exp', Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
    expect(broken.status).toBe(400);
    const br = await write('/api/v2/write?bucket=exp', 'm v=1', { 'content-encoding': 'br' });
    expect(br.status).toBe(415);
  });

  it('stores the good lines of a body and answers 400 naming each bad line', async () => {
    const body = ['m v=1 1', 'm v=oops 2', 'm v=3 3', 'm note="text",v=4 4', 'garbage'].join('\n');
    const v1 = await write('/write?db=exp&precision=s', body);
    expect(v1.status).toBe(400);
    const { error } = (await v1.json()) as { error: string };
    expect(error).toBe(
      'partial write: 3 of 5 lines rejected, the rest was stored: ' +
        `line 2: unable to parse 'm v=oops 2': invalid field value "oops"; ` +
        'line 4: field "note": string values are not stored (only numbers and booleans); ' +
        "line 5: unable to parse 'garbage': missing fields",
    );
    expect(h.sink.measures.map((m) => m.value)).toEqual([1, 3, 4]);

    const v2 = await write('/api/v2/write?bucket=exp', 'only garbage\nm v=1');
    expect(v2.status).toBe(400);
    expect(await v2.json()).toEqual({
      code: 'invalid',
      message: "partial write: 1 of 2 lines rejected, the rest was stored: line 1: unable to parse 'only garbage': missing field value for field key \"garbage\"",
      line: 1,
    });
    const none = await write('/api/v2/write?bucket=exp', 'x');
    expect(((await none.json()) as { message: string }).message).toMatch(/^1 of 1 lines rejected, nothing was stored: line 1/);
  });

  it('refuses timestamps outside what MySQL stores, per line', async () => {
    const res = await write('/write?db=exp', 'm v=1 -5\nm v=2 9223372036854775806\nm v=3 1');
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toContain('line 1: timestamps before 1970-01-01 cannot be stored');
    expect(error).toContain('line 2: timestamp after 2255-06-05 cannot be stored');
    expect(h.sink.measures.map((m) => m.value)).toEqual([3]);
  });

  it('names measure types <measurement>.<field> when asked to', async () => {
    await h.close();
    h = await start({ naming: 'measurement.field' });
    expect((await write('/write?db=exp', 'cpu,host=a usage=1 1')).status).toBe(204);
    expect(h.sink.measures[0].measure).toBe('cpu.usage');
  });

  it('cuts the tag-set source to 64 characters and refuses a longer explicit source', async () => {
    const long = 'x'.repeat(70);
    const res = await write('/write?db=exp', `m,b=${long},a=1 v=1 1\nm,source=${long} v=2 2`);
    expect(res.status).toBe(400);
    expect(h.sink.measures).toEqual([measure('v', 1, 0, `a=1,b=${long}`.slice(0, 64))]);
  });

  it('splits a body of more than 10,000 measures into several journal records', async () => {
    const lines = Array.from({ length: 12_000 }, (_, i) => `m v=${i} ${i + 1}`).join('\n');
    expect((await write('/write?db=exp', lines)).status).toBe(204);
    expect(h.sink.appends.map((a) => a.length)).toEqual([10_000, 2_000]);
  });
});

describe('InfluxServer answers', () => {
  it('answers 503 with Retry-After when the journal is full', async () => {
    h.sink.failWith = new JournalFullError(10, 10, 9);
    const v1 = await write('/write?db=exp', 'm v=1');
    expect(v1.status).toBe(503);
    expect(v1.headers.get('retry-after')).toBe('9');
    expect(((await v1.json()) as { error: string }).error).toMatch(/journal is full/);
    const v2 = await write('/api/v2/write?bucket=exp', 'm v=1');
    expect(v2.status).toBe(503);
    expect(((await v2.json()) as { code: string }).code).toBe('unavailable');
    h.sink.failWith = new Error('EIO');
    const broken = await write('/write?db=exp', 'm v=1');
    expect(broken.status).toBe(503);
    expect(broken.headers.get('retry-after')).toBe('5');
  });

  it('answers 413 for a body over the limit, compressed or not', async () => {
    await h.close();
    h = await start({ maxBodyBytes: 2048 });
    const big = 'm v=1\n'.repeat(1000);
    const plain = await write('/api/v2/write?bucket=exp', big);
    expect(plain.status).toBe(413);
    expect(await plain.json()).toMatchObject({ code: 'request too large', maxLength: 2048 });
    const zipped = await write('/write?db=exp', gzipSync(big), { 'content-encoding': 'gzip' });
    expect(zipped.status).toBe(413);
    expect(h.sink.appends).toEqual([]);
  });

  it('authenticates with Token, Bearer, Basic, u/p and 1.8-style Token user:password', async () => {
    const ok = [
      { authorization: `Token ${OPEN_TOKEN}` },
      { authorization: `Bearer ${OPEN_TOKEN}` },
      { authorization: basic('telegraf', 'telegraf-password') },
      { authorization: 'Token telegraf:telegraf-password' },
    ];
    for (const headers of ok) expect((await write('/write?db=exp', 'm v=1', headers)).status).toBe(204);
    const query = await fetch(`${h.base}/write?db=exp&u=telegraf&p=telegraf-password`, { method: 'POST', body: 'm v=1' });
    expect(query.status).toBe(204);
  });

  it('answers 401 in each API format for missing or wrong credentials, 403 outside the allowed experiments', async () => {
    const missing = await fetch(`${h.base}/write?db=exp`, { method: 'POST', body: 'm v=1' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Basic realm="InfluxDB"');
    expect(await missing.json()).toEqual({ error: 'authorization failed' });
    const wrong = await write('/api/v2/write?bucket=exp', 'm v=1', { authorization: 'Token nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ code: 'unauthorized', message: 'unauthorized access' });
    const badPassword = await write('/write?db=exp', 'm v=1', { authorization: basic('telegraf', 'wrong') });
    expect(badPassword.status).toBe(401);

    expect((await write('/api/v2/write?bucket=site-a', 'm v=1', { authorization: `Token ${TOKEN}` })).status).toBe(204);
    const elsewhere = await write('/api/v2/write?bucket=site-b', 'm v=1', { authorization: `Token ${TOKEN}` });
    expect(elsewhere.status).toBe(403);
    expect(((await elsewhere.json()) as { code: string }).code).toBe('forbidden');
    expect(h.sink.measures.map((m) => m.experiment)).toEqual(['site-a']);
  });

  it('needs a database or bucket', async () => {
    const v1 = await write('/write', 'm v=1');
    expect(v1.status).toBe(400);
    expect(await v1.json()).toEqual({ error: 'database is required' });
    const v2 = await write('/api/v2/write?org=x', 'm v=1');
    expect(await v2.json()).toEqual({ code: 'invalid', message: 'bucket is required' });
  });

  it('answers /ping, /health, CREATE DATABASE, and 404/405 for the rest', async () => {
    const ping = await fetch(`${h.base}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBe('1.8.10');
    expect((await fetch(`${h.base}/ping`, { method: 'HEAD' })).status).toBe(204);
    const health = await fetch(`${h.base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'pass' });
    const create = await fetch(`${h.base}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'CREATE DATABASE "telegraf"' }),
      headers: { authorization: basic('telegraf', 'telegraf-password') },
    });
    expect(create.status).toBe(200);
    expect(await create.json()).toEqual({ results: [{ statement_id: 0 }] });
    const select = await fetch(`${h.base}/query?q=SELECT%201`, { headers: { authorization: basic('telegraf', 'telegraf-password') } });
    expect(select.status).toBe(400);
    expect((await fetch(`${h.base}/write?db=exp`, { headers: { authorization: `Token ${OPEN_TOKEN}` } })).status).toBe(405);
    expect((await fetch(`${h.base}/api/v2/query`, { method: 'POST' })).status).toBe(404);
  });
});
