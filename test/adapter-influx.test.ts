import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Measure } from '../services/shared/measure-contract';
import { influxPorts, spawnNode } from './support/processes';
import type { Spawned } from './support/processes';
import { createTestVhost, takeAll, waitFor } from './support/services';
import type { TestVhost } from './support/services';

/**
 * The influx adapter as a process against the real RabbitMQ: a corpus of line-protocol bodies
 * (escapes, every field type and precision, gzip, bad lines among good ones) arrives as the
 * expected measures; Telegraf-style batches are accepted; credentials are checked.
 */

const TOKEN = 'influx-test-token-0123456789';
const SITE_TOKEN = 'influx-site-token-0123456789';

let vhost: TestVhost;
let tmp: string;
let adapter: InfluxProcess;

interface InfluxProcess extends Spawned {
  readonly base: string;
  readonly metrics: string;
}

async function startInflux(amqpUrl: string, journalDir: string, extra: string[]): Promise<InfluxProcess> {
  const spawned = spawnNode('adapters/cli.js', { AMQP_URL: amqpUrl, LOG_LEVEL: 'info' }, [
    'influx',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--metrics-port',
    '0',
    '--journal-dir',
    journalDir,
    ...extra,
  ]);
  const { port, metricsPort } = await influxPorts(spawned);
  return { ...spawned, base: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function stopInflux(p: InfluxProcess | undefined): Promise<void> {
  if (!p || p.proc.exitCode !== null) return;
  p.proc.kill('SIGTERM');
  await p.exited;
}

beforeAll(async () => {
  vhost = await createTestVhost('adapter_influx');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-adapter-influx-'));
  const authFile = path.join(tmp, 'auth.json');
  fs.writeFileSync(
    authFile,
    JSON.stringify({
      tokens: [{ token: TOKEN }, { token: SITE_TOKEN, experiments: ['site-a'] }],
      users: [{ username: 'telegraf', password: 'telegraf-secret' }],
    }),
  );
  adapter = await startInflux(vhost.url, path.join(tmp, 'journal'), ['--auth-file', authFile]);
});

afterAll(async () => {
  await stopInflux(adapter);
  await vhost?.delete();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});



/** Every measure published, once `count` of them have arrived. */
async function receive(count: number): Promise<Measure[]> {
  const all: Measure[] = [];
  await waitFor(async () => {
    for (const r of await takeAll(vhost.url)) all.push(...r.measures);
    return all.length >= count;
  }, `${count} measures`, 60_000, 100);
  return all;
}

const key = (m: Measure): string => `${m.experiment}|${m.measure}|${m.source}|${m.timestampUs}|${m.value}`;
const sorted = (ms: readonly Measure[]): string[] => ms.map(key).sort();

function post(pathAndQuery: string, body: string | Buffer, headers: Record<string, string> = { authorization: `Token ${TOKEN}` }): Promise<Response> {
  return fetch(`${adapter.base}${pathAndQuery}`, { method: 'POST', body, headers });
}

const S = 1_700_000_000;
const US = S * 1_000_000;
const mk = (experiment: string, measure: string, value: number, timestampUs: number, source = ''): Measure => ({
  experiment,
  measure,
  value,
  timestampUs,
  source,
});

interface CorpusCase {
  readonly name: string;
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** Substrings of the error answer. */
  readonly errors?: readonly string[];
  readonly measures: readonly Measure[];
}

const CORPUS: readonly CorpusCase[] = [
  {
    name: 'escapes in measurement, tag keys and values, field keys',
    path: '/write?db=corpus-escapes&precision=s',
    body: `my\\ meas\\,urement,tag\\ key=tag\\,val\\=ue,z=last field\\ key=1,f\\=x=2 ${S}\nm,path=C:\\\\data v=3 ${S}`,
    status: 204,
    measures: [
      mk('corpus-escapes', 'field key', 1, US, 'tag key=tag,val=ue,z=last'),
      mk('corpus-escapes', 'f=x', 2, US, 'tag key=tag,val=ue,z=last'),
      mk('corpus-escapes', 'v', 3, US, 'path=C:\\data'),
    ],
  },
  {
    name: 'every field type; the string field is refused, the rest of its line kept',
    path: '/write?db=corpus-types&precision=s',
    body: `dev,source=s1 f=1.5,neg=-2e3,i=-7i,big=9007199254740993i,u=42u,t=true,F=F,note="say \\"hi\\"" ${S}`,
    status: 400,
    errors: ['line 1: field "note": string values are not stored'],
    measures: [
      mk('corpus-types', 'f', 1.5, US, 's1'),
      mk('corpus-types', 'neg', -2000, US, 's1'),
      mk('corpus-types', 'i', -7, US, 's1'),
      mk('corpus-types', 'big', 9007199254740992, US, 's1'),
      mk('corpus-types', 'u', 42, US, 's1'),
      mk('corpus-types', 't', 1, US, 's1'),
      mk('corpus-types', 'F', 0, US, 's1'),
    ],
  },
  ...(
    [
      ['n', '1700000000123456789', US + 123_456],
      ['u', '1700000000123456', US + 123_456],
      ['ms', '1700000000123', US + 123_000],
      ['s', '1700000000', US],
      ['m', '28333333', 28_333_333 * 60_000_000],
      ['h', '472222', 472_222 * 3_600_000_000],
    ] as const
  ).map(
    ([precision, ts, us]): CorpusCase => ({
      name: `v1 precision ${precision}`,
      path: `/write?db=corpus-precision&precision=${precision}`,
      body: `p,unit=${precision} v=1 ${ts}`,
      status: 204,
      measures: [mk('corpus-precision', 'v', 1, us, `unit=${precision}`)],
    }),
  ),
  ...(
    [
      ['ns', '1700000000123456789', US + 123_456],
      ['us', '1700000000123456', US + 123_456],
      ['ms', '1700000000123', US + 123_000],
      ['s', '1700000000', US],
    ] as const
  ).map(
    ([precision, ts, us]): CorpusCase => ({
      name: `v2 precision ${precision}`,
      path: `/api/v2/write?org=cern&bucket=corpus-v2&precision=${precision}`,
      body: `p,unit=${precision} v=2 ${ts}`,
      status: 204,
      measures: [mk('corpus-v2', 'v', 2, us, `unit=${precision}`)],
    }),
  ),
  {
    name: 'no precision means nanoseconds',
    path: '/api/v2/write?bucket=corpus-v2',
    body: `p,unit=default v=3 1700000000000000999`,
    status: 204,
    measures: [mk('corpus-v2', 'v', 3, US, 'unit=default')],
  },
  {
    name: 'gzip body with comments, blank lines and CRLF',
    path: '/api/v2/write?bucket=corpus-gzip&precision=ms',
    body: gzipSync(`# telegraf\r\n\r\ncpu,host=h1,cpu=cpu0 usage_user=0.5,usage_idle=99.5 1700000000000\r\ncpu,host=h1,cpu=cpu1 usage_user=1 1700000000000\r\n`),
    headers: { authorization: `Token ${TOKEN}`, 'content-encoding': 'gzip' },
    status: 204,
    measures: [
      mk('corpus-gzip', 'usage_user', 0.5, US, 'cpu=cpu0,host=h1'),
      mk('corpus-gzip', 'usage_idle', 99.5, US, 'cpu=cpu0,host=h1'),
      mk('corpus-gzip', 'usage_user', 1, US, 'cpu=cpu1,host=h1'),
    ],
  },
  {
    name: 'bad lines among good ones: the good ones are kept',
    path: '/write?db=corpus-mixed&precision=s',
    body: [`ok v=1 ${S}`, 'broken', `ok v=abc ${S}`, `ok v=2 ${S + 1}`, `ok v=3 -1`, `ok,t=x v=4 ${S + 2} extra`, `ok v=5 ${S + 3}`].join('\n'),
    status: 400,
    errors: ['partial write: 4 of 7 lines rejected', 'line 2:', 'line 3:', 'line 5: timestamps before 1970', 'line 6:'],
    measures: [mk('corpus-mixed', 'v', 1, US), mk('corpus-mixed', 'v', 2, US + 1e6), mk('corpus-mixed', 'v', 5, US + 3e6)],
  },
  {
    name: 'v1 with u/p query credentials and a unicode source',
    path: '/write?db=corpus-auth&precision=s&u=telegraf&p=telegraf-secret',
    body: `t,source=capteur-é\\ 1 °C=21.5 ${S}`,
    headers: {},
    status: 204,
    measures: [mk('corpus-auth', '°C', 21.5, US, 'capteur-é 1')],
  },
];

describe('influx adapter: line protocol corpus → RabbitMQ', () => {
  it('turns every corpus body into exactly the expected measures', async () => {
    for (const c of CORPUS) {
      const res = await post(c.path, c.body, c.headers);
      const text = await res.text();
      expect({ name: c.name, status: res.status }).toEqual({ name: c.name, status: c.status });
      const answer = text === '' ? {} : (JSON.parse(text) as { error?: string; message?: string });
      for (const e of c.errors ?? []) expect(answer.error ?? answer.message).toContain(e);
    }
    const expected = CORPUS.flatMap((c) => c.measures);
    const received = await receive(expected.length);
    expect(sorted(received)).toEqual(sorted(expected));
  });

  it('stamps lines without a timestamp with the time of the request', async () => {
    const before = Date.now() * 1000;
    expect((await post('/write?db=corpus-now', 'm v=1\nm,source=b v=2')).status).toBe(204);
    const after = Date.now() * 1000;
    const received = await receive(2);
    for (const m of received) {
      expect(m.timestampUs).toBeGreaterThanOrEqual(before - 1000);
      expect(m.timestampUs).toBeLessThanOrEqual(after + 1000);
    }
    expect(received[0].timestampUs).toBe(received[1].timestampUs);
  });

  it('accepts Telegraf-style gzip batches of 1,000 lines on both outputs', async () => {
    const telegrafHeaders = { 'user-agent': 'Telegraf/1.30.0', 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' };
    const batch = (b: number): Buffer => {
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const ns = BigInt(S) * 1_000_000_000n + BigInt(b * 1000 + i) * 1_000_000n;
        lines.push(`cpu,cpu=cpu${i % 4},host=node-${b % 3} usage_user=${(i % 100) / 10},usage_system=${i % 7}i ${ns}`);
      }
      return gzipSync(`${lines.join('\n')}\n`);
    };
    const query = await fetch(`${adapter.base}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'CREATE DATABASE "telegraf"' }),
      headers: { authorization: `Basic ${Buffer.from('telegraf:telegraf-secret').toString('base64')}` },
    });
    expect(query.status).toBe(200);
    const statuses: number[] = [];
    for (let b = 0; b < 10; b++) {
      const res =
        b % 2 === 0
          ? await post('/write?db=telegraf', batch(b), {
              ...telegrafHeaders,
              authorization: `Basic ${Buffer.from('telegraf:telegraf-secret').toString('base64')}`,
            })
          : await post('/api/v2/write?bucket=telegraf&org=cern', batch(b), { ...telegrafHeaders, authorization: `Token ${TOKEN}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual(Array(10).fill(204));
    const received = await receive(20_000);
    expect(received).toHaveLength(20_000);
    expect(new Set(received.map(key)).size).toBe(20_000);
    expect(new Set(received.map((m) => m.measure))).toEqual(new Set(['usage_user', 'usage_system']));

    const metrics = await (await fetch(adapter.metrics)).text();
    const confirmed = /^mymonit_adapter_confirmed_measures_total\{[^}]*\} (\d+)$/m.exec(metrics);
    expect(Number(confirmed?.[1])).toBeGreaterThanOrEqual(20_000);
    expect(metrics).toMatch(/^mymonit_adapter_influx_requests_total\{endpoint="write",status="204"[^}]*\} [1-9]/m);
  });

  it('checks credentials: 401 without or with wrong ones, 403 outside a token’s experiments', async () => {
    const none = await post('/write?db=x', 'm v=1', {});
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'authorization failed' });
    expect((await post('/api/v2/write?bucket=x', 'm v=1', { authorization: 'Token wrong-token-000000000' })).status).toBe(401);
    expect((await post('/api/v2/write?bucket=site-b', 'm v=1', { authorization: `Token ${SITE_TOKEN}` })).status).toBe(403);
    expect((await post('/api/v2/write?bucket=site-a&precision=s', `m v=1 ${S}`, { authorization: `Token ${SITE_TOKEN}` })).status).toBe(204);
    expect(await receive(1)).toEqual([mk('site-a', 'v', 1, US)]);
  });

  it('answers /ping and /health like InfluxDB', async () => {
    const ping = await fetch(`${adapter.base}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBeTruthy();
    const health = await fetch(`${adapter.base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'pass' });
  });

  it('refuses to start without saying who may write, or without a journal directory', async () => {
    const noAuth = spawnNode('adapters/cli.js', { AMQP_URL: vhost.url }, ['influx', '--journal-dir', path.join(tmp, 'unused')]);
    expect(await noAuth.exited).toBe(2);
    expect(noAuth.output()).toContain('say who may write: --auth-file PATH, --token TOKEN, or --allow-anonymous');
    const noJournal = spawnNode('adapters/cli.js', { AMQP_URL: vhost.url }, ['influx', '--allow-anonymous']);
    expect(await noJournal.exited).toBe(2);
    expect(noJournal.output()).toContain('--journal-dir is required');
    const help = spawnNode('adapters/cli.js', {}, ['influx', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/--journal-max-bytes SIZE/);
    expect(help.output()).toMatch(/--metrics-port PORT/);
  });
});
