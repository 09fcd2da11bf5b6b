import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { BENCH_EXPERIMENTS, BENCH_MEASURE_TYPES, benchPoint } from './bench-points';
import { AdapterProcess, createBenchVhost, freePort, positiveInt, procMemory, sleep } from './bench-services';

/**
 * `npm run bench:adapters [-- --lines N | --quick] [--clients N] [--body-lines N] [--gzip]`
 *
 * Line-protocol lines per second through the influx adapter with its journal on: several
 * keep-alive clients post bodies of --body-lines lines to /write as fast as they are answered;
 * every 204 means the lines are fsynced in the journal. Reported: lines/s answered (accepted into
 * the journal) and lines/s confirmed by RabbitMQ (the adapter's forwarder, from its /metrics),
 * plus group-commit and memory figures. Runs in a throw-away vhost and journal directory.
 * The last line of output is JSON.
 */

const USAGE = 'usage: node dist/bench/adapters.bench.js [--lines N | --quick] [--clients N] [--body-lines N] [--gzip]';
const DEFAULT_LINES = 2_000_000;
const QUICK_LINES = 300_000;
const TARGET_LINES_PER_SEC = 100_000;
/** Distinct bodies cycled through by the clients (built before timing starts). */
const DISTINCT_BODIES = 32;
const STALL_MS = 60_000;

interface Options {
  readonly lines: number;
  readonly clients: number;
  readonly bodyLines: number;
  readonly gzip: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let lines = DEFAULT_LINES;
  let clients = 4;
  let bodyLines = 5_000;
  let gzip = false;
  const int = (flag: string, v: string | undefined): number => positiveInt(flag, v, USAGE);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--lines') lines = int(flag, argv[++i]);
    else if (flag === '--quick') lines = QUICK_LINES;
    else if (flag === '--clients') clients = int(flag, argv[++i]);
    else if (flag === '--body-lines') bodyLines = int(flag, argv[++i]);
    else if (flag === '--gzip') gzip = true;
    else throw new Error(`unknown argument ${flag}\n${USAGE}`);
  }
  return { lines, clients, bodyLines, gzip };
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const perSec = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** One experiment per body (a Telegraf batch goes to one database), 8 sources, ms timestamps. */
function buildBodies(bodyLines: number, gzip: boolean): Array<{ readonly experiment: string; readonly data: Buffer; readonly rawBytes: number }> {
  const bodies = [];
  for (let b = 0; b < DISTINCT_BODIES; b++) {
    const lines: string[] = [];
    for (let k = 0; k < bodyLines; k++) {
      const p = benchPoint(b * bodyLines + k);
      lines.push(`sensors,source=${p.source} ${BENCH_MEASURE_TYPES[p.measureType]}=${p.value} ${Math.floor(p.timestampUs / 1000)}`);
    }
    const text = Buffer.from(`${lines.join('\n')}\n`);
    bodies.push({ experiment: BENCH_EXPERIMENTS[b % BENCH_EXPERIMENTS.length], data: gzip ? gzipSync(text) : text, rawBytes: text.length });
  }
  return bodies;
}

function post(agent: http.Agent, port: number, pathAndQuery: string, body: Buffer, gzip: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathAndQuery,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': body.length,
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function metricValue(metricsPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

interface InfluxResult {
  readonly lines: number;
  readonly clients: number;
  readonly bodyLines: number;
  readonly gzip: boolean;
  readonly acceptedSeconds: number;
  readonly acceptedLinesPerSec: number;
  readonly confirmedSeconds: number;
  readonly confirmedLinesPerSec: number;
  readonly requests: number;
  readonly journalSyncs: number;
  readonly appendsPerSync: number;
  readonly adapterPeakRssMiB: number;
  readonly adapterCpuSeconds: number;
  /** Adapter CPU per line: the figure that does not depend on what else the machine runs. */
  readonly adapterCpuMicrosPerLine: number;
  /** 1 s of adapter CPU ÷ CPU per line: lines/s the adapter could take with a core to itself. */
  readonly linesPerAdapterCpuSecond: number;
  /** Load average while the bench ran (other processes share the cores). */
  readonly loadAverage: number;
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, fields 14 and 15 of /proc/<pid>/stat (here shifted by the 2 dropped fields).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function influxPhase(opts: Options, amqpUrl: string, journalDir: string): Promise<InfluxResult> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const adapter = AdapterProcess.start(
    ['influx', '--port', String(port), '--host', '127.0.0.1', '--metrics-port', String(metricsPort), '--journal-dir', journalDir, '--allow-anonymous'],
    { AMQP_URL: amqpUrl },
  );
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.status === 204, () => false);
      if (up && (await metricValue(metricsPort, 'mymonit_adapter_broker_connected').catch(() => 0)) === 1) break;
      if (adapter.proc.exitCode !== null || Date.now() > deadline) throw new Error(`the influx adapter did not start:\n${adapter.output()}`);
      await sleep(100);
    }
    const bodies = buildBodies(opts.bodyLines, opts.gzip);
    const totalBodies = Math.ceil(opts.lines / opts.bodyLines);
    const lines = totalBodies * opts.bodyLines;
    out(
      `influx: ${lines.toLocaleString('en-US')} lines in ${totalBodies} bodies of ${opts.bodyLines} lines ` +
        `(${mib(bodies[0].rawBytes)} MiB${opts.gzip ? `, ${mib(bodies[0].data.length)} MiB gzipped` : ''}), ${opts.clients} keep-alive clients`,
    );
    const cpuBefore = cpuSeconds(adapter.proc.pid ?? 0);
    let next = 0;
    const started = performance.now();
    const client = async (): Promise<void> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let b = next++; b < totalBodies; b = next++) {
          const body = bodies[b % bodies.length];
          const status = await post(agent, port, `/write?db=${body.experiment}&precision=ms`, body.data, opts.gzip);
          if (status !== 204) throw new Error(`body ${b} answered ${status}\n${adapter.output()}`);
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: opts.clients }, client));
    const acceptedMs = performance.now() - started;
    out(`influx: accepted (journaled, 204) in ${(acceptedMs / 1000).toFixed(2)} s: ${perSec((lines / acceptedMs) * 1000)}`);

    let confirmed = 0;
    let lastProgress = performance.now();
    while (confirmed < lines) {
      await sleep(50);
      const now = await metricValue(metricsPort, 'mymonit_adapter_confirmed_measures_total');
      if (now > confirmed) lastProgress = performance.now();
      confirmed = now;
      if (performance.now() - lastProgress > STALL_MS) throw new Error(`forwarding stalled at ${confirmed} of ${lines}\n${adapter.output()}`);
    }
    const confirmedMs = performance.now() - started;
    out(`influx: confirmed by RabbitMQ in ${(confirmedMs / 1000).toFixed(2)} s: ${perSec((lines / confirmedMs) * 1000)}`);
    const syncs = await metricValue(metricsPort, 'mymonit_adapter_journal_syncs_total');
    const appends = await metricValue(metricsPort, 'mymonit_adapter_journal_appended_records_total');
    const cpu = cpuSeconds(adapter.proc.pid ?? 0) - cpuBefore;
    const result: InfluxResult = {
      lines,
      clients: opts.clients,
      bodyLines: opts.bodyLines,
      gzip: opts.gzip,
      acceptedSeconds: Math.round(acceptedMs) / 1000,
      acceptedLinesPerSec: Math.round((lines / acceptedMs) * 1000),
      confirmedSeconds: Math.round(confirmedMs) / 1000,
      confirmedLinesPerSec: Math.round((lines / confirmedMs) * 1000),
      requests: totalBodies,
      journalSyncs: syncs,
      appendsPerSync: Math.round((appends / syncs) * 100) / 100,
      adapterPeakRssMiB: mib(procMemory(adapter.proc.pid ?? 0).peakRss),
      adapterCpuSeconds: Math.round(cpu * 100) / 100,
      adapterCpuMicrosPerLine: Math.round((cpu / lines) * 1e7) / 10,
      linesPerAdapterCpuSecond: Math.round(lines / cpu),
      loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
    };
    out(
      `influx: ${syncs} fsyncs for ${appends} journal records (${result.appendsPerSync} per fsync), ` +
        `adapter CPU ${result.adapterCpuSeconds} s (${result.adapterCpuMicrosPerLine} µs/line: ${perSec(result.linesPerAdapterCpuSecond)} per CPU second), ` +
        `peak RSS ${result.adapterPeakRssMiB} MiB, load average ${result.loadAverage} on ${os.cpus().length} cores`,
    );
    return result;
  } finally {
    await adapter.stop();
  }
}

// ───────────────────────────── MQTT HOOK ─────────────────────────────
// The MQTT half (messages/s through the MQTT bridge into RabbitMQ with the journal on) goes here:
// start a broker and `adapters/cli.js mqtt … --journal-dir …` against `amqpUrl`, publish, and
// return its figures; they appear under "mqtt" in the JSON line. Until then it reports null.
interface MqttResult {
  readonly messages: number;
  readonly messagesPerSec: number;
}
async function mqttPhase(_opts: Options, _amqpUrl: string, _journalDir: string): Promise<MqttResult | null> {
  await Promise.resolve();
  return null;
}
// ─────────────────────────── END MQTT HOOK ───────────────────────────

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const vhost = await createBenchVhost('mymonit_bench_adapters');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-bench-adapters-'));
  let stopping = false;
  const cleanup = async (): Promise<void> => {
    await vhost.delete().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    if (stopping) return;
    stopping = true;
    void cleanup().finally(() => process.exit(130));
  });
  try {
    out(`machine: ${os.cpus().length} cores, node ${process.version}; journal in ${tmp}`);
    const influx = await influxPhase(opts, vhost.url, path.join(tmp, 'influx-journal'));
    const mqtt = await mqttPhase(opts, vhost.url, path.join(tmp, 'mqtt-journal'));
    const pass = influx.acceptedLinesPerSec >= TARGET_LINES_PER_SEC;
    out(`target: ≥ ${perSec(TARGET_LINES_PER_SEC)} lines accepted — ${pass ? 'met' : 'NOT met'}`);
    out(JSON.stringify({ bench: 'adapters', influx, mqtt, target: { acceptedLinesPerSec: TARGET_LINES_PER_SEC }, pass }));
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
