import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { dropDatabase, migrate } from '../db/src/migrate';
import { assertTopology, TOPOLOGY } from '../services/shared/amqp-topology';

/**
 * Benchmark-only resources on the machine's real MariaDB and RabbitMQ: a throw-away database and
 * vhost, a fast confirmed publisher, a queue probe, spawned ingest and adapter processes, and the
 * small helpers every bench uses. The test helpers under test/support do the same for tests, but
 * the build does not compile test/, so the bench keeps its own equivalents here.
 */

export const MYSQL_ROOT = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const AMQP_HOST = process.env.BENCH_AMQP_HOST ?? '127.0.0.1:5672';
export const RABBIT_MGMT = process.env.BENCH_RABBIT_MGMT ?? 'http://127.0.0.1:15672';
const RABBIT_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** The ingest entry point, built beside this file (dist/bench → dist/services). */
const INGEST_MAIN = path.resolve(__dirname, '..', 'services', 'ingest', 'main.js');
/** The adapters' command line, built beside this file (dist/bench → dist/adapters). */
const ADAPTER_CLI = path.resolve(__dirname, '..', 'adapters', 'cli.js');

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function createBenchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const url = `${MYSQL_ROOT}/${uniqueName(prefix)}`;
  await migrate(url);
  return { url, drop: () => dropDatabase(url) };
}

async function mgmt(method: string, apiPath: string, body?: unknown): Promise<void> {
  const res = await fetch(`${RABBIT_MGMT}/api${apiPath}`, {
    method,
    headers: { authorization: RABBIT_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
    throw new Error(`RabbitMQ management ${method} ${apiPath}: ${res.status} ${await res.text()}`);
  }
}

export async function createBenchVhost(prefix: string): Promise<{ url: string; delete(): Promise<void> }> {
  const name = uniqueName(prefix);
  const vhostPath = `/vhosts/${encodeURIComponent(name)}`;
  await mgmt('PUT', vhostPath, {});
  const url = `amqp://guest:guest@${AMQP_HOST}/${encodeURIComponent(name)}`;
  try {
    await mgmt('PUT', `/permissions/${encodeURIComponent(name)}/guest`, { configure: '.*', write: '.*', read: '.*' });
    const conn = await amqp.connect(url);
    try {
      await assertTopology(await conn.createChannel());
    } finally {
      await conn.close();
    }
  } catch (err) {
    await mgmt('DELETE', vhostPath).catch(() => undefined);
    throw err;
  }
  return { url, delete: () => mgmt('DELETE', vhostPath) };
}

/** Most unconfirmed publishes in flight; bounds memory and keeps the broker from flow control. */
const MAX_UNCONFIRMED = 20_000;

/** Publishes persistent bodies to the measures route with confirms; resolves once all are confirmed. */
export async function publishBodies(url: string, bodies: Iterable<Buffer>): Promise<number> {
  const conn = await amqp.connect(url);
  let failure: unknown;
  let wake: (() => void) | undefined;
  const wakeUp = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // A lost connection (e.g. the vhost deleted on Ctrl-C) fails the publishing instead of the process.
  conn.on('error', (err: unknown) => (failure ??= err));
  conn.on('close', () => {
    failure ??= new Error('connection closed while publishing');
    wakeUp();
  });
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('drain', wakeUp);
    let inFlight = 0;
    const settled = (err: unknown): void => {
      inFlight--;
      if (err) failure ??= err;
      if (inFlight < MAX_UNCONFIRMED / 2) wakeUp();
    };
    let n = 0;
    for (const body of bodies) {
      if (failure) break;
      inFlight++;
      const ok = ch.publish(
        TOPOLOGY.exchange,
        TOPOLOGY.routingKey,
        body,
        { persistent: true, contentType: 'application/json' },
        settled,
      );
      n++;
      if (!ok || inFlight >= MAX_UNCONFIRMED) await new Promise<void>((resolve) => (wake = resolve));
    }
    if (!failure) await ch.waitForConfirms();
    if (failure) throw failure instanceof Error ? failure : new Error('the broker did not confirm every publish');
    return n;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** A long-lived channel for cheap, frequent looks at the queue. */
export class QueueProbe {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
    private readonly queue: string,
  ) {}

  static async open(url: string, queue: string = TOPOLOGY.queue): Promise<QueueProbe> {
    const conn = await amqp.connect(url);
    conn.on('error', () => undefined); // surfaces as a failed look()
    try {
      return new QueueProbe(conn, await conn.createChannel(), queue);
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
  }

  /** Messages ready for delivery (not counting those delivered and unacked) and consumers. */
  async look(): Promise<{ ready: number; consumers: number }> {
    const ok = await this.ch.checkQueue(this.queue);
    return { ready: ok.messageCount, consumers: ok.consumerCount };
  }

  async purge(): Promise<void> {
    await this.ch.purgeQueue(this.queue);
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ProcMemory {
  /** Resident set now, bytes. */
  readonly rss: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  readonly peakRss: number;
}

/** Reads VmRSS and VmHWM from /proc/<pid>/status (Linux). */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Busy and total CPU time of the whole machine so far, from /proc/stat, in clock ticks. */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = ticks[3] + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Local server processes whose CPU time the bench reports, by their /proc/<pid>/comm name. */
const SERVER_COMMANDS = { broker: ['beam.smp'], database: ['mariadbd', 'mysqld'] } as const;
export type ServerName = keyof typeof SERVER_COMMANDS;

/**
 * CPU seconds used so far by the local RabbitMQ and MariaDB processes, found by name in /proc;
 * absent when they run elsewhere (e.g. in containers of another machine). Includes any other load
 * on those servers.
 */
export function serverCpuSeconds(): Partial<Record<ServerName, number>> {
  const found: Partial<Record<ServerName, number>> = {};
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    for (const [server, names] of Object.entries(SERVER_COMMANDS) as Array<[ServerName, readonly string[]]>) {
      if (!names.includes(comm)) continue;
      try {
        found[server] = (found[server] ?? 0) + procCpuSeconds(Number(pid));
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

/** CPU time each server used between two serverCpuSeconds() readings, in µs per unit of work. */
export function serverCpuMicrosPer(
  before: Partial<Record<ServerName, number>>,
  after: Partial<Record<ServerName, number>>,
  units: number,
): Partial<Record<ServerName, number>> {
  const per: Partial<Record<ServerName, number>> = {};
  for (const server of Object.keys(SERVER_COMMANDS) as ServerName[]) {
    const a = before[server];
    const b = after[server];
    if (a !== undefined && b !== undefined) per[server] = ((b - a) * 1e6) / units;
  }
  return per;
}

/** Where the local broker keeps its data (Debian's package); BENCH_RABBIT_MNESIA overrides it. */
const RABBIT_MNESIA = process.env.BENCH_RABBIT_MNESIA ?? '/var/lib/rabbitmq/mnesia';

/**
 * The name of the local broker's current quorum-queue write-ahead log file, or undefined where it
 * cannot be read (another machine, another layout). All quorum queues of a node share that log;
 * each time it reaches its size limit (512 MiB) the broker starts a new file and copies what the
 * old one held into per-queue segment files: seconds of broker CPU, landing in whichever phase is
 * running. A 500,000-message fill and drain writes about 240 MB of it, so every other run or so.
 */
export function brokerWalFile(): string | undefined {
  try {
    let newest: string | undefined;
    for (const node of readdirSync(RABBIT_MNESIA)) {
      const dir = path.join(RABBIT_MNESIA, node, 'quorum', node);
      let files: string[];
      try {
        files = readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of files) if (f.endsWith('.wal') && (newest === undefined || f > newest)) newest = f;
    }
    return newest;
  } catch {
    return undefined;
  }
}

/** Where the CPU went during a phase, per unit of work (message, measure or row). */
export interface CpuUse {
  /** Share of the whole machine's CPU time that was busy (any process, including other users). */
  readonly machineBusy: number;
  /** µs of CPU per unit: the measured client process (bench or ingest), broker, database. */
  readonly client: number;
  readonly broker: number | undefined;
  readonly database: number | undefined;
  /**
   * Whether the broker's quorum-queue write-ahead log rolled over during the phase or the fill
   * before it (its copying goes on into the phase); undefined when unknown.
   */
  readonly brokerWalRolledOver: boolean | undefined;
}

/** Reads CPU counters at the start of a phase and turns them into per-unit figures at its end. */
export class CpuWindow {
  private constructor(
    private readonly pid: number,
    private readonly client: number,
    private readonly servers: Partial<Record<ServerName, number>>,
    private readonly machine: { busy: number; total: number },
    private readonly wal: string | undefined,
  ) {}

  /** `walAtStart`: the broker's log file when the work being timed began, if before now (a fill). */
  static open(pid: number, walAtStart: string | undefined = brokerWalFile()): CpuWindow {
    return new CpuWindow(pid, procCpuSeconds(pid), serverCpuSeconds(), machineCpuTicks(), walAtStart);
  }

  /** Call while the client process still runs. */
  close(units: number): CpuUse {
    const client = procCpuSeconds(this.pid);
    const servers = serverCpuMicrosPer(this.servers, serverCpuSeconds(), units);
    const machine = machineCpuTicks();
    const wal = brokerWalFile();
    return {
      machineBusy: (machine.busy - this.machine.busy) / Math.max(1, machine.total - this.machine.total),
      client: ((client - this.client) * 1e6) / units,
      broker: servers.broker,
      database: servers.database,
      brokerWalRolledOver: this.wal === undefined || wal === undefined ? undefined : wal !== this.wal,
    };
  }
}

/** USER_HZ; 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

const MAX_KEPT_OUTPUT = 64 * 1024;

/** Collections V8 reported with --trace-gc, by kind: how many, their pause time, the heap after each. */
export type GcTotals = Map<string, { count: number; pauseMs: number; heapAfterMiB: number[] }>;

/** A --trace-gc line: "[pid:0x…] 1228 ms: Scavenge 46.4 (74.8) -> 33.5 (75.7) MB, 15.75 / 0.01 ms …". */
const GC_LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: ([A-Za-z -]+?) [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \//;

export class IngestProcess {
  private out = '';
  private partialLine = '';
  readonly gc: GcTotals = new Map();
  readonly exited: Promise<number | string>;

  private constructor(
    readonly proc: ChildProcess,
    readonly opsPort: number,
  ) {
    const keep = (text: string): void => {
      this.out += text;
      if (this.out.length > MAX_KEPT_OUTPUT) this.out = this.out.slice(-MAX_KEPT_OUTPUT);
    };
    proc.stdout?.on('data', (b: Buffer) => {
      const lines = (this.partialLine + b.toString()).split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) {
        const gc = GC_LINE.exec(line);
        if (!gc) {
          keep(`${line}\n`);
          continue;
        }
        const totals = this.gc.get(gc[1]) ?? { count: 0, pauseMs: 0, heapAfterMiB: [] };
        totals.count++;
        totals.pauseMs += Number(gc[3]);
        totals.heapAfterMiB.push(Number(gc[2]));
        this.gc.set(gc[1], totals);
      }
    });
    proc.stderr?.on('data', (b: Buffer) => keep(b.toString()));
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  }

  /** Starts dist/services/ingest/main.js with the given environment (on top of PATH only). */
  static async start(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<IngestProcess> {
    const opsPort = await freePort();
    const proc = spawn(process.execPath, [...nodeArgs, INGEST_MAIN], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', INGEST_HTTP_PORT: String(opsPort), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new IngestProcess(proc, opsPort);
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error(`ingest did not start:\n${this.out}`);
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  /** SIGTERM (graceful stop), then SIGKILL if it has not exited after graceMs. */
  async stop(graceMs = 15_000): Promise<number | string> {
    if (!this.running) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A spawned adapter (dist/adapters/cli.js) and the tail of its output, for error messages. */
export class AdapterProcess {
  private out = '';
  readonly exited: Promise<number | string>;

  private constructor(readonly proc: ChildProcess) {
    const keep = (b: Buffer): void => {
      this.out = (this.out + b.toString()).slice(-MAX_KEPT_OUTPUT);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  }

  /** Starts `dist/adapters/cli.js <args>` with the given environment (on top of PATH and LOG_LEVEL=warn). */
  static start(args: readonly string[], env: Record<string, string> = {}): AdapterProcess {
    const proc = spawn(process.execPath, [ADAPTER_CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AdapterProcess(proc);
  }

  output(): string {
    return this.out;
  }

  /** SIGTERM (graceful stop), then SIGKILL if it has not exited after 20 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A command-line value that must be a positive integer; the error ends with the bench's usage. */
export function positiveInt(flag: string, value: string | undefined, usage: string): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer\n${usage}`);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
