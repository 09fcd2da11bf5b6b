import os from 'node:os';
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { connect, createPool } from '../db/src/pool';
import type { Pool } from '../db/src/pool';
import { TOPOLOGY } from '../services/shared/amqp-topology';
import { loadIngestConfig } from '../services/shared/config';
import { microsToSql } from '../services/shared/measure-contract';
import { arrayBodies, BENCH_EXPERIMENTS, BENCH_MEASURE_TYPES, benchPoint, singleMeasureBodies } from './bench-points';
import { brokerWalFile, createBenchDatabase, createBenchVhost, CpuWindow, IngestProcess, positiveInt, procMemory, publishBodies, QueueProbe, sleep } from './bench-services';
import type { CpuUse } from './bench-services';

/**
 * `npm run bench:ingest [-- --messages N | --quick] [--batch-size N] [--flush-ms N] [--prefetch N]
 *  [--prefetch-b N] [--only consume,a,b,insert] [--cpu-prof DIR] [--node-arg --trace-gc]`
 *
 * Times the real ingest process draining a full queue into MySQL, once with single-measure
 * messages (A) and once with 500-measure array messages (B), against the two raw ceilings on the
 * same machine: a bare amqplib consumer that only acks, and bare multi-row INSERTs. Filling the
 * queue is never timed. Everything runs in a throw-away vhost and database, removed at the end.
 */

const USAGE =
  'usage: node dist/bench/ingest.bench.js [--messages N | --quick] [--batch-size N] [--flush-ms N] ' +
  '[--prefetch N] [--prefetch-b N] [--only consume,a,b,insert] [--cpu-prof DIR] [--node-arg --flag]...';
const DEFAULT_MESSAGES = 500_000;
const QUICK_MESSAGES = 50_000;
const MEASURES_PER_ARRAY = 500;
const ROWS_PER_INSERT = 1_000;
const TARGETS = { aPerSec: 100_000, aOfConsume: 0.55, bPerSec: 150_000, bOfInsert: 0.8 } as const;
/** A phase whose progress stands still this long has failed (ingest stuck, rows rejected…). */
const STALL_MS = 60_000;

const PHASES = ['consume', 'a', 'b', 'insert'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  readonly messages: number;
  readonly ingestEnv: Record<string, string>;
  readonly prefetchB: number | undefined;
  readonly phases: ReadonlySet<Phase>;
  readonly cpuProfDir: string | undefined;
  /** Extra node flags for the ingest process (--node-arg, repeatable), e.g. --trace-gc. */
  readonly nodeArgs: readonly string[];
}

function parseArgs(argv: readonly string[]): Options {
  let messages = DEFAULT_MESSAGES;
  let prefetchB: number | undefined;
  let cpuProfDir: string | undefined;
  const nodeArgs: string[] = [];
  let phases = new Set<Phase>(PHASES);
  const ingestEnv: Record<string, string> = {};
  const int = (flag: string, v: string | undefined): number => positiveInt(flag, v, USAGE);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--messages':
        messages = int(flag, argv[++i]);
        break;
      case '--quick':
        messages = QUICK_MESSAGES;
        break;
      case '--batch-size':
        ingestEnv.INGEST_BATCH_SIZE = String(int(flag, argv[++i]));
        break;
      case '--flush-ms':
        ingestEnv.INGEST_FLUSH_MS = String(int(flag, argv[++i]));
        break;
      case '--prefetch':
        ingestEnv.INGEST_PREFETCH = String(int(flag, argv[++i]));
        break;
      case '--prefetch-b':
        prefetchB = int(flag, argv[++i]);
        break;
      case '--only': {
        const list = (argv[++i] ?? '').split(',');
        const bad = list.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (bad.length || list.length === 0) throw new Error(`--only takes some of ${PHASES.join(',')}\n${USAGE}`);
        phases = new Set(list as Phase[]);
        break;
      }
      case '--cpu-prof':
        cpuProfDir = argv[++i];
        if (!cpuProfDir) throw new Error(`--cpu-prof needs a directory\n${USAGE}`);
        break;
      case '--node-arg': {
        const arg = argv[++i];
        if (!arg?.startsWith('--')) throw new Error(`--node-arg needs a node flag, e.g. --node-arg --trace-gc\n${USAGE}`);
        nodeArgs.push(arg);
        break;
      }
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return { messages, ingestEnv, prefetchB, phases, cpuProfDir, nodeArgs };
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const perSec = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Undo actions, run in reverse order at the end, on failure and on Ctrl-C. */
class Cleanup {
  private readonly actions: Array<{ what: string; run: () => Promise<unknown> }> = [];
  private running: Promise<void> | undefined;

  add(what: string, run: () => Promise<unknown>): () => void {
    const action = { what, run };
    this.actions.push(action);
    return () => {
      const i = this.actions.indexOf(action);
      if (i >= 0) this.actions.splice(i, 1);
    };
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (let a = this.actions.pop(); a; a = this.actions.pop()) {
        try {
          await a.run();
        } catch (err) {
          process.stderr.write(`cleanup: ${a.what} failed: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    })();
    return this.running;
  }
}

async function countRows(pool: Pool, table: 'measures' | 'rejected_measures'): Promise<number> {
  const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number((rows as Array<{ n: number | string }>)[0].n);
}

/**
 * Returns the broker's quorum-queue log file as the fill began: a roll-over from then on weighs on
 * the phase that drains the queue, so its CPU window starts there.
 */
async function fillQueue(url: string, probe: QueueProbe, bodies: Iterable<Buffer>, expected: number, what: string): Promise<string | undefined> {
  await probe.purge();
  const walAtFill = brokerWalFile();
  const started = performance.now();
  const n = await publishBodies(url, bodies);
  const { ready } = await probe.look();
  if (n !== expected || ready !== expected) throw new Error(`queue holds ${ready} messages after publishing ${n}, expected ${expected}`);
  out(`  filled queue with ${n.toLocaleString('en-US')} ${what} in ${seconds(performance.now() - started)} (not timed)`);
  return walAtFill;
}

interface ConsumeCeiling {
  readonly messages: number;
  readonly seconds: number;
  readonly perSec: number;
  /** CPU per message; the client is this process, so its share is amqplib's cost of a message. */
  readonly cpu: CpuUse;
}

/** The broker and client ceiling: receive and multiple-ack every `ackEvery`, nothing else. */
async function bareConsume(
  url: string,
  messages: number,
  prefetch: number,
  ackEvery: number,
  walAtFill: string | undefined,
): Promise<ConsumeCeiling> {
  const conn = await amqp.connect(url, { clientProperties: { connection_name: 'bench-bare-consumer' } });
  let stallTimer: NodeJS.Timeout | undefined;
  let lost: (err: Error) => void = () => undefined;
  const connectionLost = new Promise<never>((_, reject) => (lost = reject));
  connectionLost.catch(() => undefined);
  conn.on('error', () => undefined); // followed by 'close'
  conn.on('close', () => lost(new Error('bare consumer: connection closed')));
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(prefetch);
    let received = 0;
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const started = performance.now();
    const cpu = CpuWindow.open(process.pid, walAtFill);
    await ch.consume(
      TOPOLOGY.queue,
      (msg) => {
        if (!msg) return;
        received++;
        if (received % ackEvery === 0 || received === messages) ch.ack(msg, true);
        if (received === messages) finished();
      },
      { noAck: false },
    );
    let seen = -1;
    const watchdog = new Promise<never>((_, reject) => {
      stallTimer = setInterval(() => {
        if (received === seen) reject(new Error(`bare consume stalled at ${received}/${messages} messages`));
        seen = received;
      }, STALL_MS);
    });
    await Promise.race([done, watchdog, connectionLost]);
    const elapsed = performance.now() - started;
    return { messages, seconds: elapsed / 1000, perSec: messages / (elapsed / 1000), cpu: cpu.close(messages) };
  } finally {
    clearInterval(stallTimer);
    await conn.close().catch(() => undefined);
  }
}

interface IngestRun {
  readonly measures: number;
  /** From the consumer attaching to the full queue until every row is committed. */
  readonly seconds: number;
  readonly perSec: number;
  /** The same, counted from the process spawn (node start-up, connects, topology). */
  readonly secondsWithStartup: number;
  readonly peakRssMiB: number;
  /** Resident set at each tenth of the drain (sampled every 100 ms), to see whether it stays flat. */
  readonly rssByTenthMiB: number[];
  /** Batches committed, and the time they took: write + commit, one flush at a time. */
  readonly batches: number;
  readonly meanFlushMs: number;
  /** Share of the drain during which a flush was running. */
  readonly flushBusy: number;
  /** Collections during the whole run, when ingest ran with --node-arg --trace-gc. */
  readonly gc: string;
  /** CPU per measure during the drain; the client is the ingest process. */
  readonly cpu: CpuUse;
}

/** Reads one sample of a metric (only the process's default labels) from a Prometheus page. */
function metricValue(page: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(page);
  if (!m) throw new Error(`ingest /metrics has no ${name}`);
  return Number(m[1]);
}

/**
 * Starts ingest on the full queue and waits until `expected` rows are in `measures`. The clock
 * starts when the broker reports the consumer attached and stops at the start of the first
 * COUNT(*) that sees every row (that statement's snapshot was taken then, so every row was
 * committed by that time). COUNT(*) is only polled once the queue has nothing left to deliver, so
 * the poll does not compete with ingest for the CPU during the drain.
 */
async function timeIngest(
  env: Record<string, string>,
  nodeArgs: readonly string[],
  expected: number,
  pool: Pool,
  probe: QueueProbe,
  cleanup: Cleanup,
  walAtFill: string | undefined,
): Promise<IngestRun> {
  const spawned = performance.now();
  const ingest = await IngestProcess.start(env, nodeArgs);
  const forget = cleanup.add('stop ingest', () => ingest.stop(2_000));
  const failIfExited = (): void => {
    if (!ingest.running) throw new Error(`ingest exited:\n${ingest.output()}`);
  };
  const rssSamples: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (let look = await probe.look(); look.consumers === 0; look = await probe.look()) {
      failIfExited();
      if (performance.now() - spawned > 30_000) throw new Error(`ingest did not attach to the queue:\n${ingest.output()}`);
      await sleep(5);
    }
    const started = performance.now();
    const cpuWindow = CpuWindow.open(ingest.pid, walAtFill);
    sampler = setInterval(() => {
      if (ingest.running) rssSamples.push(procMemory(ingest.pid).rss);
    }, 100);

    let lastReady = Number.POSITIVE_INFINITY;
    let lastProgress = performance.now();
    const stalled = (what: string): Error => new Error(`no progress for ${STALL_MS / 1000} s (${what}):\n${ingest.output()}`);
    for (;;) {
      failIfExited();
      const { ready } = await probe.look();
      if (ready === 0) break;
      if (ready < lastReady) [lastReady, lastProgress] = [ready, performance.now()];
      else if (performance.now() - lastProgress > STALL_MS) throw stalled(`${ready} messages still queued`);
      await sleep(20);
    }
    let finishedAt: number;
    let lastCount = -1;
    for (;;) {
      failIfExited();
      const asked = performance.now();
      const n = await countRows(pool, 'measures');
      if (n >= expected) {
        finishedAt = asked;
        break;
      }
      if (n > lastCount) [lastCount, lastProgress] = [n, performance.now()];
      else if (performance.now() - lastProgress > STALL_MS) throw stalled(`${n}/${expected} rows stored`);
      await sleep(5);
    }
    clearInterval(sampler);
    sampler = undefined;
    const memory = procMemory(ingest.pid);
    const cpu = cpuWindow.close(expected);
    const page = await (await fetch(`http://127.0.0.1:${ingest.opsPort}/metrics`)).text();
    const code = await ingest.stop();
    forget();
    if (code !== 0) throw new Error(`ingest exited with ${code} on SIGTERM:\n${ingest.output()}`);

    const [stored, rejected] = await Promise.all([countRows(pool, 'measures'), countRows(pool, 'rejected_measures')]);
    if (stored !== expected || rejected !== 0) {
      throw new Error(`expected ${expected} rows and no rejections, found ${stored} rows and ${rejected} rejections`);
    }
    const elapsed = finishedAt - started;
    const flushSeconds = metricValue(page, 'mymonit_ingest_flush_seconds_sum');
    const batches = metricValue(page, 'mymonit_ingest_flush_seconds_count');
    rssSamples.push(memory.rss);
    const tenths = Array.from({ length: 10 }, (_, i) => rssSamples[Math.floor(((i + 1) * (rssSamples.length - 1)) / 10)]);
    return {
      measures: expected,
      seconds: elapsed / 1000,
      perSec: expected / (elapsed / 1000),
      secondsWithStartup: (finishedAt - spawned) / 1000,
      peakRssMiB: mib(memory.peakRss),
      rssByTenthMiB: tenths.map(mib),
      batches,
      meanFlushMs: batches ? (flushSeconds * 1000) / batches : 0,
      flushBusy: flushSeconds / (elapsed / 1000),
      gc: [...ingest.gc]
        .map(([kind, t]) => {
          // For full collections, the heap left after each: live data, flat if nothing accumulates.
          const after = kind.startsWith('Mark') ? ` (heap after: ${t.heapAfterMiB.join(' ')} MB)` : '';
          return `${t.count} ${kind} ${Math.round(t.pauseMs)} ms${after}`;
        })
        .join(', '),
      cpu,
    };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}

interface InsertCeiling {
  readonly rows: number;
  readonly seconds: number;
  readonly perSec: number;
  /** CPU per row; the client is this process. */
  readonly cpu: CpuUse;
}

/** The database ceiling: plain multi-row INSERTs of the same rows on one autocommit connection. */
async function bareInsert(url: string, rows: number, experimentIds: number[], typeIds: number[]): Promise<InsertCeiling> {
  const statements: string[] = [];
  for (let start = 0; start < rows; start += ROWS_PER_INSERT) {
    const values: string[] = [];
    for (let i = start; i < Math.min(rows, start + ROWS_PER_INSERT); i++) {
      const p = benchPoint(i);
      values.push(`(${experimentIds[p.experiment]},'${microsToSql(p.timestampUs)}',${typeIds[p.measureType]},'${p.source}',${p.value})`);
    }
    statements.push(`INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ${values.join(',')}`);
  }
  const conn = await connect(url);
  try {
    const started = performance.now();
    const cpu = CpuWindow.open(process.pid);
    for (const sql of statements) await conn.query(sql);
    const elapsed = performance.now() - started;
    return { rows, seconds: elapsed / 1000, perSec: rows / (elapsed / 1000), cpu: cpu.close(rows) };
  } finally {
    await conn.end();
  }
}

async function idsByName(pool: Pool, table: 'experiments' | 'measure_types', names: readonly string[]): Promise<number[]> {
  const [rows] = await pool.query(`SELECT id, name FROM ${table} WHERE name IN (?)`, [names]);
  const byName = new Map((rows as Array<{ id: number; name: string }>).map((r) => [r.name, r.id]));
  return names.map((n) => {
    const id = byName.get(n);
    if (id === undefined) throw new Error(`${table} has no ${n}`);
    return id;
  });
}

function flushLine(r: IngestRun): string {
  return (
    `${r.batches} batches, mean write+commit ${r.meanFlushMs.toFixed(1)} ms, a flush running ${pct(r.flushBusy)} of the drain` +
    (r.gc ? `; GC: ${r.gc}` : '')
  );
}

/**
 * The most units per second this machine's cores could carry at the CPU cost measured: the three
 * processes share the same cores, so a rate above this is out of reach whatever the pipelining.
 */
function cpuCeiling(cpu: CpuUse): number | undefined {
  if (cpu.broker === undefined || cpu.database === undefined) return undefined;
  const micros = cpu.client + cpu.broker + cpu.database;
  return micros > 0 ? (os.availableParallelism() * 1e6) / micros : undefined;
}

function cpuLine(cpu: CpuUse, client: string, unit: string): string {
  const micros = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(1));
  const ceiling = cpuCeiling(cpu);
  return (
    `CPU µs per ${unit}: ${client} ${micros(cpu.client)}, broker ${micros(cpu.broker)}, database ${micros(cpu.database)}; ` +
    `machine ${pct(cpu.machineBusy)} busy` +
    (ceiling === undefined ? '' : `; all ${os.availableParallelism()} cores at this cost: at most ${perSec(ceiling)}`) +
    (cpu.brokerWalRolledOver ? '; the broker rolled its quorum-queue log over during this phase or the fill before it (copying it costs broker CPU)' : '')
  );
}

/** The JSON form of a CpuUse, rounded. */
function cpuJson(cpu: CpuUse | undefined): Record<string, number | boolean | null> | null {
  if (!cpu) return null;
  const r = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 100) / 100);
  const ceiling = cpuCeiling(cpu);
  return {
    client: r(cpu.client),
    broker: r(cpu.broker),
    database: r(cpu.database),
    machineBusy: r(cpu.machineBusy),
    ceilingPerSec: ceiling === undefined ? null : Math.round(ceiling),
    brokerWalRolledOver: cpu.brokerWalRolledOver ?? null,
  };
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

async function run(opts: Options, cleanup: Cleanup): Promise<void> {
  const n = opts.messages;
  const arrayMessages = Math.ceil(n / MEASURES_PER_ARRAY);
  const configA = loadIngestConfig(opts.ingestEnv).ingest;
  // Prefetch counts messages, not measures. The batcher flushes once batchSize measures are
  // buffered, i.e. after batchSize / 500 array messages; two batches' worth lets the next batch
  // fill while the previous one is written, as config.ts does for single-measure messages. The
  // default (2 × batchSize messages) would pull the whole queue, 500,000 decoded measures, into
  // memory at once without writing any faster.
  const prefetchB = opts.prefetchB ?? Math.max(2, Math.ceil((2 * configA.batchSize) / MEASURES_PER_ARRAY));
  // Node refuses --cpu-prof in NODE_OPTIONS, so it goes on the ingest command line.
  const nodeArgs = [...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []), ...opts.nodeArgs];

  out(`ingest bench: A ${n.toLocaleString('en-US')} single-measure messages; B ${arrayMessages.toLocaleString('en-US')} messages of ${MEASURES_PER_ARRAY} measures`);
  out(`  ingest settings: batch ${configA.batchSize}, flush ${configA.flushMs} ms, prefetch A ${configA.prefetch}, prefetch B ${prefetchB}`);
  out('  (broker and database CPU figures count all their work, including any other load on those servers)');

  const vhost = await createBenchVhost('mymonit_bench_ingest');
  cleanup.add('delete vhost', () => vhost.delete());
  const db = await createBenchDatabase('mymonit_bench_ingest');
  cleanup.add('drop database', () => db.drop());
  const pool = createPool(db.url, { connectionLimit: 2 });
  cleanup.add('end pool', () => pool.end());
  const probe = await QueueProbe.open(vhost.url);
  cleanup.add('close probe', () => probe.close());

  await pool.query('INSERT INTO experiments (name) VALUES ?', [BENCH_EXPERIMENTS.map((e) => [e])]);
  const experimentIds = await idsByName(pool, 'experiments', BENCH_EXPERIMENTS);
  const typeIds = await idsByName(pool, 'measure_types', BENCH_MEASURE_TYPES);
  const ingestEnv = { MYSQL_URL: db.url, AMQP_URL: vhost.url, ...opts.ingestEnv };

  let consume: ConsumeCeiling | undefined;
  let a: IngestRun | undefined;
  let b: IngestRun | undefined;
  let insert: InsertCeiling | undefined;

  if (opts.phases.has('consume')) {
    out(`bare consume ceiling (prefetch ${configA.prefetch}, multiple-ack every ${configA.batchSize}):`);
    const wal = await fillQueue(vhost.url, probe, singleMeasureBodies(n), n, 'single-measure messages');
    consume = await bareConsume(vhost.url, n, configA.prefetch, configA.batchSize, wal);
    out(`  ${perSec(consume.perSec)} messages (${seconds(consume.seconds * 1000)})`);
    out(`  ${cpuLine(consume.cpu, 'consumer', 'message')}`);
  }
  if (opts.phases.has('a')) {
    out('ingest A, single-measure messages:');
    await pool.query('TRUNCATE TABLE measures');
    const wal = await fillQueue(vhost.url, probe, singleMeasureBodies(n), n, 'single-measure messages');
    a = await timeIngest(ingestEnv, nodeArgs, n, pool, probe, cleanup, wal);
    out(`  ${perSec(a.perSec)} measures (${seconds(a.seconds * 1000)}; ${seconds(a.secondsWithStartup * 1000)} from spawn)`);
    out(`  ${flushLine(a)}`);
    out(`  ${cpuLine(a.cpu, 'ingest', 'measure')}`);
  }
  if (opts.phases.has('b')) {
    out(`ingest B, ${MEASURES_PER_ARRAY}-measure messages (prefetch ${prefetchB}):`);
    await pool.query('TRUNCATE TABLE measures');
    const wal = await fillQueue(vhost.url, probe, arrayBodies(n, MEASURES_PER_ARRAY), arrayMessages, 'array messages');
    b = await timeIngest({ ...ingestEnv, INGEST_PREFETCH: String(prefetchB) }, nodeArgs, n, pool, probe, cleanup, wal);
    out(`  ${perSec(b.perSec)} measures (${seconds(b.seconds * 1000)}; ${seconds(b.secondsWithStartup * 1000)} from spawn)`);
    out(`  ${flushLine(b)}`);
    out(`  ${cpuLine(b.cpu, 'ingest', 'measure')}`);
  }
  if (opts.phases.has('insert')) {
    out(`bare insert ceiling (${ROWS_PER_INSERT} rows per INSERT, one autocommit connection, empty table):`);
    await pool.query('TRUNCATE TABLE measures');
    insert = await bareInsert(db.url, n, experimentIds, typeIds);
    out(`  ${perSec(insert.perSec)} rows (${seconds(insert.seconds * 1000)})`);
    out(`  ${cpuLine(insert.cpu, 'client', 'row')}`);
  }

  const aOfConsume = a && consume ? a.perSec / consume.perSec : undefined;
  const bOfInsert = b && insert ? b.perSec / insert.perSec : undefined;
  out('summary:');
  if (a) {
    const ok = a.perSec >= TARGETS.aPerSec && (aOfConsume === undefined || aOfConsume >= TARGETS.aOfConsume);
    out(`  ingest A            ${perSec(a.perSec)} measures${aOfConsume === undefined ? '' : `, ${pct(aOfConsume)} of bare consume`}  [target ≥ ${perSec(TARGETS.aPerSec)} and ≥ ${pct(TARGETS.aOfConsume)}: ${verdict(ok)}]`);
  }
  if (b) {
    const ok = b.perSec >= TARGETS.bPerSec && (bOfInsert === undefined || bOfInsert >= TARGETS.bOfInsert);
    out(`  ingest B            ${perSec(b.perSec)} measures${bOfInsert === undefined ? '' : `, ${pct(bOfInsert)} of bare insert`}  [target ≥ ${perSec(TARGETS.bPerSec)} and ≥ ${pct(TARGETS.bOfInsert)}: ${verdict(ok)}]`);
  }
  if (consume) out(`  bare consume        ${perSec(consume.perSec)} messages`);
  if (insert) out(`  bare insert         ${perSec(insert.perSec)} rows`);
  for (const [name, r] of [['A', a], ['B', b]] as const) {
    if (r) {
      out(`  ingest ${name} memory     peak RSS (VmHWM) ${r.peakRssMiB} MiB; RSS by tenth of the drain ${r.rssByTenthMiB.join(' ')} MiB`);
    }
  }

  const round = (x: number | undefined, digits = 0): number | null =>
    x === undefined ? null : Math.round(x * 10 ** digits) / 10 ** digits;
  out(
    JSON.stringify({
      bench: 'ingest',
      messages: n,
      arrayMessages,
      measuresPerArray: MEASURES_PER_ARRAY,
      batchSize: configA.batchSize,
      flushMs: configA.flushMs,
      prefetchA: configA.prefetch,
      prefetchB,
      ingestA_measuresPerSec: round(a?.perSec),
      ingestA_seconds: round(a?.seconds, 3),
      ingestA_secondsWithStartup: round(a?.secondsWithStartup, 3),
      ingestA_peakRssMiB: a?.peakRssMiB ?? null,
      ingestA_rssByTenthMiB: a?.rssByTenthMiB ?? null,
      ingestA_meanFlushMs: round(a?.meanFlushMs, 1),
      ingestA_flushBusy: round(a?.flushBusy, 3),
      ingestA_cpuMicrosPerMeasure: cpuJson(a?.cpu),
      ingestB_measuresPerSec: round(b?.perSec),
      ingestB_seconds: round(b?.seconds, 3),
      ingestB_secondsWithStartup: round(b?.secondsWithStartup, 3),
      ingestB_peakRssMiB: b?.peakRssMiB ?? null,
      ingestB_rssByTenthMiB: b?.rssByTenthMiB ?? null,
      ingestB_meanFlushMs: round(b?.meanFlushMs, 1),
      ingestB_flushBusy: round(b?.flushBusy, 3),
      ingestB_cpuMicrosPerMeasure: cpuJson(b?.cpu),
      bareConsume_messagesPerSec: round(consume?.perSec),
      bareConsume_cpuMicrosPerMessage: cpuJson(consume?.cpu),
      bareInsert_rowsPerSec: round(insert?.perSec),
      bareInsert_cpuMicrosPerRow: cpuJson(insert?.cpu),
      ratioA_ofBareConsume: round(aOfConsume, 3),
      ratioB_ofBareInsert: round(bOfInsert, 3),
      targets: TARGETS,
    }),
  );
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const cleanup = new Cleanup();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: cleaning up\n`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await run(opts, cleanup);
  } finally {
    await cleanup.runAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
