import http from 'node:http';
import { connect } from '../db/src/pool';
import { API_NODE_FLAGS } from '../services/api/node-flags';
import { microsToIso } from '../services/shared/measure-contract';
import { addScientist, ApiProcess, AuthEmulator, DATASET_TYPES, PROJECT_ID, prepareDataset } from './api-bench-env';
import type { Dataset } from './api-bench-env';
import { paced, saturate } from './api-load';
import type { LoadFigures } from './api-load';
import { CpuWindow, positiveInt } from './bench-services';
import type { CpuUse } from './bench-services';

/**
 * `npm run bench:api [-- --keep] [--rows N] [--seconds S] [--page-rate R] [--aggregate-rate R]
 *  [--only page,aggregate,max,csv] [--cpu-prof DIR] [--api-node-arg FLAG]...`
 *
 * The real API process (dist/services/api/main.js) against a database holding --rows measures
 * (default 10 million) of one experiment over a year, with a valid ID token from an Auth emulator
 * of its own, on loopback. Latencies are those of every response, from the moment the request was
 * due to its last byte (see api-load.ts). Figures:
 * - page: GET /measures/{id}?from=<random instant>&limit=1000, requests evenly spaced at
 *   --page-rate (default 200/s);
 * - aggregate: GET /measures/{id}/aggregate over a random day, 1-minute buckets, one measure type,
 *   avg,min,max,count, evenly spaced at --aggregate-rate (default 50/s);
 * - max: the most requests/s of each (autocannon, a few connections, closed loop);
 * - csv: the whole experiment as text/csv, rows per second as the client reads them.
 * CPU per request (API process, database server) and how busy the whole machine was come with each
 * figure: other work on the machine shows there.
 * The database is dropped at the end unless --keep, which also reuses a complete earlier load.
 */

const USAGE =
  'usage: node dist/bench/api.bench.js [--keep] [--rows N] [--seconds S] [--page-rate R] [--aggregate-rate R] ' +
  '[--only page,aggregate,max,csv] [--cpu-prof DIR] [--api-node-arg FLAG]...';
const TARGETS = { pageP99Ms: 25, aggregateP99Ms: 50, csvRowsPerSec: 300_000 } as const;
const PHASES = ['page', 'aggregate', 'max', 'csv'] as const;
/** Connections and duration of the closed-loop runs (most requests per second). */
const MAX_CONNECTIONS = 4;
const MAX_SECONDS = 10;
type Phase = (typeof PHASES)[number];

interface Options {
  readonly keep: boolean;
  readonly rows: number;
  readonly seconds: number;
  readonly pageRate: number;
  readonly aggregateRate: number;
  readonly phases: ReadonlySet<Phase>;
  /** Where the API process writes a V8 CPU profile (.cpuprofile) when it stops. */
  readonly cpuProfDir: string | undefined;
  /** Extra node flags for the API process (--api-node-arg, repeatable), e.g. --max-semi-space-size=16. */
  readonly apiNodeArgs: readonly string[];
}

function parseArgs(argv: readonly string[]): Options {
  const o: { -readonly [K in keyof Options]: Options[K] } = {
    keep: false,
    rows: 10_000_000,
    seconds: 30,
    pageRate: 200,
    aggregateRate: 50,
    phases: new Set<Phase>(PHASES),
    cpuProfDir: undefined,
    apiNodeArgs: [],
  };
  const int = (flag: string, v: string | undefined): number => positiveInt(flag, v, USAGE);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--keep') o.keep = true;
    else if (flag === '--rows') o.rows = int(flag, argv[++i]);
    else if (flag === '--seconds') o.seconds = int(flag, argv[++i]);
    else if (flag === '--page-rate') o.pageRate = int(flag, argv[++i]);
    else if (flag === '--aggregate-rate') o.aggregateRate = int(flag, argv[++i]);
    else if (flag === '--api-node-arg') {
      const arg = argv[++i];
      if (!arg?.startsWith('--')) throw new Error(`--api-node-arg needs a node flag\n${USAGE}`);
      o.apiNodeArgs = [...o.apiNodeArgs, arg];
    } else if (flag === '--cpu-prof') {
      o.cpuProfDir = argv[++i];
      if (!o.cpuProfDir) throw new Error(`--cpu-prof needs a directory\n${USAGE}`);
    }
    else if (flag === '--only') {
      const list = (argv[++i] ?? '').split(',');
      if (!list.every((p): p is Phase => (PHASES as readonly string[]).includes(p))) throw new Error(`--only takes ${PHASES.join(',')}\n${USAGE}`);
      o.phases = new Set(list);
    } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  return o;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

interface LatencyFigures extends LoadFigures {
  /** CPU per request: API process, database server (ms). */
  readonly apiCpuMs: number;
  readonly dbCpuMs: number | undefined;
  readonly machineBusy: number;
  /** The API's own view (its /metrics): event loop delay p99 and max, time in GC pauses. */
  readonly apiLoopDelayP99Ms: number | undefined;
  readonly apiLoopDelayMaxMs: number | undefined;
  readonly apiGcMs: number | undefined;
  /**
   * Full (mark-compact) collections: each pauses every request in flight for 5-20 ms, and the
   * slowest requests of a page run come in clusters at them.
   */
  readonly apiFullGcs: number | undefined;
  /**
   * Share of the measure requests that the API itself (from its latency histogram: request read to
   * response finished) took more than 25 ms over. Set beside the client's figures, it tells whether
   * a slow tail is inside the API or in front of it (sockets, the machine's run queue).
   */
  readonly apiOver25MsShare: number | undefined;
  /** InnoDB pages read from disk per request (the server's counter: any other load counts too). */
  readonly dbDiskReads: number;
}

/** What the database server holds in memory, against the data set's size. */
interface DatabaseMemory {
  readonly bufferPoolMiB: number;
  readonly dataSetMiB: number;
  /** InnoDB pages read from disk since the server started; a difference is a phase's reads. */
  diskReads(): Promise<number>;
  close(): Promise<void>;
}

async function databaseMemory(url: string): Promise<DatabaseMemory> {
  const conn = await connect(url);
  const [[sizes]] = (await conn.query(
    'SELECT @@innodb_buffer_pool_size AS pool, (SELECT data_length + index_length FROM information_schema.tables ' +
      "WHERE table_schema = DATABASE() AND table_name = 'measures') AS data",
  )) as unknown as [Array<{ pool: number | string; data: number | string }>];
  const mib = (bytes: number | string): number => Math.round(Number(bytes) / 2 ** 20);
  return {
    bufferPoolMiB: mib(sizes.pool),
    dataSetMiB: mib(sizes.data),
    diskReads: async () => {
      const [rows] = (await conn.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'")) as unknown as [Array<{ Value: string }>];
      return Number(rows[0].Value);
    },
    close: () => conn.end(),
  };
}

/**
 * Values of the API's Prometheus metrics by metric name, summed over labels, and by series as
 * written (name and labels, e.g. nodejs_gc_duration_seconds_count{service="api",kind="major"}).
 */
async function scrape(api: ApiProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$/.exec(line);
    if (!m) continue;
    values.set(m[1], (values.get(m[1]) ?? 0) + Number(m[3]));
    if (m[2] !== undefined) values.set(m[1] + m[2], Number(m[3]));
  }
  return values;
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs a load and reads the CPU the API and the database used for it. */
async function measured(api: ApiProcess, db: DatabaseMemory, load: () => Promise<LoadFigures>): Promise<LatencyFigures> {
  // A scrape also restarts the event loop delay histogram, so the next one covers this load only.
  const before = await scrape(api);
  const readsBefore = await db.diskReads();
  const cpu = CpuWindow.open(api.pid);
  const f = await load();
  const use: CpuUse = cpu.close(Math.max(1, f.requests));
  const reads = (await db.diskReads()) - readsBefore;
  const after = await scrape(api);
  const ms = (name: string): number | undefined => {
    const v = after.get(name);
    return v === undefined ? undefined : round(v * 1000);
  };
  const gcBefore = before.get('nodejs_gc_duration_seconds_sum');
  const gcAfter = after.get('nodejs_gc_duration_seconds_sum');
  const fullGcs = (m: Map<string, number>): number | undefined => {
    let n: number | undefined;
    for (const [series, v] of m) if (series.startsWith('nodejs_gc_duration_seconds_count{') && series.includes('kind="major"')) n = (n ?? 0) + v;
    return n;
  };
  const fullBefore = fullGcs(before) ?? 0;
  const fullAfter = fullGcs(after);
  const measureRequests = (m: Map<string, number>, le: string): number => {
    let n = 0;
    for (const [series, v] of m) {
      if (series.startsWith('http_request_duration_seconds_bucket{') && series.includes('route="/measures/') && series.includes(`le="${le}"`)) n += v;
    }
    return n;
  };
  const served = measureRequests(after, '+Inf') - measureRequests(before, '+Inf');
  const within25 = measureRequests(after, '0.025') - measureRequests(before, '0.025');
  return {
    ...f,
    apiCpuMs: round(use.client / 1000, 3),
    dbCpuMs: use.database === undefined ? undefined : round(use.database / 1000, 3),
    machineBusy: round(use.machineBusy, 2),
    apiLoopDelayP99Ms: ms('nodejs_eventloop_lag_p99_seconds'),
    apiLoopDelayMaxMs: ms('nodejs_eventloop_lag_max_seconds'),
    apiGcMs: gcBefore === undefined || gcAfter === undefined ? undefined : round((gcAfter - gcBefore) * 1000),
    apiFullGcs: fullAfter === undefined ? undefined : fullAfter - fullBefore,
    apiOver25MsShare: served > 0 ? round((served - within25) / served, 4) : undefined,
    dbDiskReads: round(reads / Math.max(1, f.requests), 2),
  };
}

/** GET with a token; the body as text (checks before a phase). */
async function get(api: ApiProcess, token: string, path: string, accept = 'application/json'): Promise<{ status: number; text: string }> {
  const res = await fetch(`${api.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}`, accept }, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, text: await res.text() };
}

interface CsvFigures {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSec: number;
  readonly megabytesPerSec: number;
  readonly firstByteMs: number;
  readonly apiCpuUsPerRow: number;
  readonly dbCpuUsPerRow: number | undefined;
  readonly machineBusy: number;
}

/** Reads the whole CSV export over one connection, counting lines as they arrive. */
async function csvExport(api: ApiProcess, token: string, experimentId: number): Promise<CsvFigures> {
  const cpu = CpuWindow.open(api.pid);
  const started = process.hrtime.bigint();
  let firstByte: bigint | undefined;
  let lines = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${api.baseUrl}/measures/${experimentId}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`CSV export answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        firstByte ??= process.hrtime.bigint();
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rows = lines - 1; // the header line
  const use = cpu.close(Math.max(1, rows));
  return {
    rows,
    seconds: round(seconds, 2),
    rowsPerSec: Math.round(rows / seconds),
    megabytesPerSec: round(bytes / seconds / 1e6, 1),
    firstByteMs: round(Number((firstByte ?? started) - started) / 1e6),
    apiCpuUsPerRow: round(use.client, 2),
    dbCpuUsPerRow: use.database === undefined ? undefined : round(use.database, 2),
    machineBusy: round(use.machineBusy, 2),
  };
}

function describe(name: string, f: LatencyFigures, targetMs?: number): string {
  return (
    `${name}: ${f.requests} requests, ${f.rps} req/s, p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, p99 ${f.p99Ms} ms${targetMs === undefined ? '' : ` (target < ${targetMs} ms)`}, ` +
    `max ${f.maxMs} ms, failed ${f.failed}; CPU per request: api ${f.apiCpuMs} ms, database ${f.dbCpuMs ?? '?'} ms; ` +
    `database pages read from disk per request ${f.dbDiskReads}; machine busy ${Math.round(f.machineBusy * 100)}%; ` +
    `api event loop delay p99 ${f.apiLoopDelayP99Ms ?? '?'} ms, max ${f.apiLoopDelayMaxMs ?? '?'} ms, GC ${f.apiGcMs ?? '?'} ms (${f.apiFullGcs ?? '?'} full), ` +
    `over 25 ms inside the api ${f.apiOver25MsShare === undefined ? '?' : `${round(f.apiOver25MsShare * 100)}%`}` +
    (f.sendLagP99Ms === undefined ? '' : `; load generator late by p99 ${f.sendLagP99Ms} ms, max ${f.sendLagMaxMs} ms`) +
    (f.generatorCpuMs === undefined ? '' : `, its CPU per request ${f.generatorCpuMs} ms`)
  );
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cleanup: Array<() => Promise<void>> = [];
  let dataset: Dataset | undefined;
  const figures: Record<string, unknown> = { rows: o.rows };
  // The API and the emulator run in process groups of their own: stop them (and drop the data
  // set) on Ctrl-C too.
  let cleaned: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaned ??= (async () => {
      for (const stop of cleanup) await stop().catch((err: unknown) => out(`cleanup failed: ${String(err)}`));
      if (dataset && !o.keep) await dataset.drop();
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      out(`${signal}: stopping…`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    out(`preparing ${o.rows.toLocaleString('en')} measures${o.keep ? ' (--keep: reused when already loaded)' : ''}…`);
    const loadStarted = Date.now();
    dataset = await prepareDataset(o.rows, o.keep, out);
    figures.loadSeconds = dataset.reused ? 0 : Math.round((Date.now() - loadStarted) / 1000);
    out(dataset.reused ? 'data set reused' : `data set loaded in ${String(figures.loadSeconds)} s`);
    const db = await databaseMemory(dataset.url);
    cleanup.push(() => db.close());
    figures.database = { bufferPoolMiB: db.bufferPoolMiB, dataSetMiB: db.dataSetMiB };
    out(
      `database: InnoDB buffer pool ${db.bufferPoolMiB} MiB, measures with indexes ${db.dataSetMiB} MiB` +
        (db.bufferPoolMiB < db.dataSetMiB ? ' (reads beyond the pool go to the disk)' : ''),
    );

    out('starting the Auth emulator and the API…');
    const emulator = await AuthEmulator.start();
    cleanup.push(() => emulator.stop());
    const api = await ApiProcess.start({
      NODE_ENV: 'development',
      MYSQL_URL: dataset.url,
      FIREBASE_PROJECT_ID: PROJECT_ID,
      FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
      // The bench is one user at hundreds of requests per second: lift the abuse limits.
      API_RATE_LIMIT_PER_IP: '1000000',
      API_RATE_LIMIT_PER_USER: '1000000',
    }, [...API_NODE_FLAGS, ...o.apiNodeArgs, ...(o.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir])]);
    cleanup.unshift(() => api.stop());
    const identity = await emulator.identity();
    await addScientist(dataset.url, dataset.experimentId, identity.uid);
    const token = identity.idToken;
    const exp = dataset.experimentId;
    const { firstMicros, endMicros } = dataset;
    const randomInstant = (spanBefore: number): number => firstMicros + Math.floor(Math.random() * (endMicros - firstMicros - spanBefore));

    const pagePath = (): string => `/measures/${exp}?from=${encodeURIComponent(microsToIso(randomInstant(3_600_000_000)))}&limit=1000`;
    const day = 86_400_000_000;
    const aggregatePath = (): string => {
      const from = randomInstant(day);
      return `/measures/${exp}/aggregate?measure=watt&from=${encodeURIComponent(microsToIso(from))}&to=${encodeURIComponent(microsToIso(from + day))}&interval=1m&fn=avg,min,max,count`;
    };

    // Checks (and a warm-up) before anything is timed.
    const page = await get(api, token, pagePath());
    if (page.status !== 200 || (JSON.parse(page.text) as unknown[]).length !== 1000) throw new Error(`a page is not 1000 rows: ${page.status} ${page.text.slice(0, 300)}`);
    const agg = await get(api, token, aggregatePath());
    const perDay = o.rows / 365 / DATASET_TYPES.length;
    const counted = agg.status === 200 ? (JSON.parse(agg.text) as Array<{ count: number }>).reduce((n, b) => n + b.count, 0) : 0;
    if (Math.abs(counted - perDay) > Math.max(4, perDay * 0.05)) throw new Error(`a day aggregate counts ${counted} rows, not about ${Math.round(perDay)}: ${agg.text.slice(0, 300)}`);
    for (let i = 0; i < 200; i++) await get(api, token, i % 2 ? pagePath() : aggregatePath());

    if (o.phases.has('page')) {
      out(`page: 1,000 rows at a random instant, ${o.pageRate} requests/s for ${o.seconds} s…`);
      const f = await measured(api, db, () => paced({ baseUrl: api.baseUrl, token, seconds: o.seconds, path: pagePath, rate: o.pageRate }));
      out(describe('page', f, TARGETS.pageP99Ms));
      figures.page = { rate: o.pageRate, ...f };
    }
    if (o.phases.has('aggregate')) {
      out(`aggregate: one day at 1-minute buckets of one measure type, ${o.aggregateRate} requests/s for ${o.seconds} s…`);
      const f = await measured(api, db, () => paced({ baseUrl: api.baseUrl, token, seconds: o.seconds, path: aggregatePath, rate: o.aggregateRate }));
      out(describe('aggregate', f, TARGETS.aggregateP99Ms));
      figures.aggregate = { rate: o.aggregateRate, ...f };
    }
    if (o.phases.has('max')) {
      out(`most requests/s: autocannon, ${MAX_CONNECTIONS} connections each sending on the last answer, ${MAX_SECONDS} s per kind…`);
      const page = await measured(api, db, () => saturate({ baseUrl: api.baseUrl, token, seconds: MAX_SECONDS, path: pagePath, connections: MAX_CONNECTIONS }));
      out(describe('page, saturated', page));
      const aggregate = await measured(api, db, () => saturate({ baseUrl: api.baseUrl, token, seconds: MAX_SECONDS, path: aggregatePath, connections: MAX_CONNECTIONS }));
      out(describe('aggregate, saturated', aggregate));
      figures.max = { connections: MAX_CONNECTIONS, page, aggregate };
    }
    if (o.phases.has('csv')) {
      out(`csv: the whole experiment (${o.rows.toLocaleString('en')} rows) as text/csv…`);
      const f = await csvExport(api, token, exp);
      if (f.rows !== o.rows) throw new Error(`the CSV export had ${f.rows} rows, not ${o.rows}`);
      out(
        `csv: ${f.rows} rows in ${f.seconds} s = ${f.rowsPerSec} rows/s (target ≥ ${TARGETS.csvRowsPerSec}), ${f.megabytesPerSec} MB/s, ` +
          `first byte ${f.firstByteMs} ms; CPU per row: api ${f.apiCpuUsPerRow} µs, database ${f.dbCpuUsPerRow ?? '?'} µs; machine busy ${Math.round(f.machineBusy * 100)}%`,
      );
      figures.csv = f;
    }
    const met: Record<string, boolean> = {};
    const p = figures.page as LatencyFigures | undefined;
    const a = figures.aggregate as LatencyFigures | undefined;
    const c = figures.csv as CsvFigures | undefined;
    if (p) met.page = p.failed === 0 && p.p99Ms < TARGETS.pageP99Ms;
    if (a) met.aggregate = a.failed === 0 && a.p99Ms < TARGETS.aggregateP99Ms;
    if (c) met.csv = c.rowsPerSec >= TARGETS.csvRowsPerSec;
    figures.targets = TARGETS;
    figures.met = met;
  } finally {
    await cleanUp();
  }
  out(JSON.stringify({ bench: 'api', ...figures }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
