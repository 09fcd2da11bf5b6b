import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dropDatabase, migrate } from '../db/src/migrate';
import { connect } from '../db/src/pool';
import { createAccount, signIn } from '../scripts/token';
import { freePort, MYSQL_ROOT, sleep } from './bench-services';

/**
 * What bench/api.bench.ts runs against: a database holding one experiment with millions of
 * measures, a Firebase Auth emulator of its own (on its own ports, so it neither uses nor stops
 * the one tests share) and the real API process built in dist/.
 */

export const PROJECT_ID = 'demo-mymonit';
const ROOT = path.resolve(__dirname, '..', '..');
const API_MAIN = path.resolve(__dirname, '..', 'services', 'api', 'main.js');
const FIREBASE_CLI = path.join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js');

async function until(probe: () => Promise<boolean>, what: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (proc && proc.exitCode !== null) throw new Error(`${what}: the process exited with code ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** A child process in its own process group, stopped with SIGTERM then SIGKILL. */
async function stopGroup(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(-proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export class AuthEmulator {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly host: string,
  ) {}

  /** Starts `firebase emulators:start --only auth` on a free port, offline (CI=true, demo project). */
  static async start(): Promise<AuthEmulator> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mymonit-bench-auth-'));
    writeFileSync(
      path.join(dir, 'firebase.json'),
      JSON.stringify({ emulators: { auth: { host: '127.0.0.1', port }, ui: { enabled: false }, singleProjectMode: true } }),
    );
    const log = openSync(path.join(dir, 'emulator.log'), 'a');
    const proc = spawn(process.execPath, [FIREBASE_CLI, 'emulators:start', '--only', 'auth', '--project', PROJECT_ID, '--config', path.join(dir, 'firebase.json')], {
      cwd: dir,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    const emulator = new AuthEmulator(proc, dir, `127.0.0.1:${port}`);
    try {
      await until(async () => (await fetch(`http://${emulator.host}/emulator/v1/projects/${PROJECT_ID}/config`)).ok, 'the Auth emulator', 120_000, proc);
    } catch (err) {
      await emulator.stop();
      throw new Error(`${(err as Error).message}\n${readFileSync(path.join(dir, 'emulator.log'), 'utf8').slice(-2000)}`, { cause: err });
    }
    return emulator;
  }

  /** A new account and an ID token for it (valid one hour). */
  async identity(): Promise<{ uid: string; idToken: string }> {
    const email = `bench-${randomBytes(4).toString('hex')}@bench.mymonit`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await createAccount(this.host, PROJECT_ID, { email, password });
    return signIn(this.host, email, password);
  }

  async stop(): Promise<void> {
    await stopGroup(this.proc, 20_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ApiProcess {
  private out = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly baseUrl: string,
  ) {
    const keep = (b: Buffer): void => {
      this.out = (this.out + b.toString()).slice(-16_384);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
  }

  /** Starts dist/services/api/main.js and waits until /readyz answers 200. */
  static async start(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<ApiProcess> {
    const port = await freePort();
    const proc = spawn(process.execPath, [...nodeArgs, API_MAIN], {
      env: { PATH: process.env.PATH ?? '', API_PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const api = new ApiProcess(proc, `http://127.0.0.1:${port}`);
    try {
      await until(async () => (await fetch(`${api.baseUrl}/readyz`)).ok, 'the API', 60_000, proc);
    } catch (err) {
      await api.stop();
      throw new Error(`${(err as Error).message}\n${api.out}`, { cause: err });
    }
    return api;
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error('the API did not start');
    return this.proc.pid;
  }

  output(): string {
    return this.out;
  }

  async stop(): Promise<void> {
    await stopGroup(this.proc, 15_000);
  }
}

export interface Dataset {
  readonly url: string;
  readonly experimentId: number;
  readonly rows: number;
  /** DATETIME(6) text of the first and (exclusive) last instant. */
  readonly firstMicros: number;
  readonly endMicros: number;
  /** True when an earlier --keep run had loaded it already. */
  readonly reused: boolean;
  drop(): Promise<void>;
}

/** Measure types and sources of the data set: every instant has one row per (type, source). */
export const DATASET_TYPES = ['hertz', 'watt', 'volt', 'pascal', 'joule'] as const;
export const DATASET_SOURCES = ['rack-1', 'rack-2'] as const;
const SERIES = DATASET_TYPES.length * DATASET_SOURCES.length;
/** 2025-01-01T00:00:00Z. */
const FIRST_MICROS = Date.UTC(2025, 0, 1) * 1000;
const YEAR_MICROS = 365 * 86_400 * 1_000_000;
/** Instants generated per INSERT … SELECT; each statement is one transaction. */
const INSTANTS_PER_STATEMENT = 100_000;
const KEPT_DATABASE = 'mymonit_bench_api';

const DIGITS = 'SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9';

/**
 * A database with `rows` measures of one experiment over one year: one instant every
 * year/(rows/series), each with a row per measure type and source (sources a few seconds apart).
 * Generated by the server itself (INSERT … SELECT over a digits table, sorted by primary key),
 * which is far faster than sending the rows. With `keep`, the database has a fixed name and a
 * complete earlier load is reused.
 */
export async function prepareDataset(rows: number, keep: boolean, log: (line: string) => void): Promise<Dataset> {
  if (rows % SERIES !== 0) throw new Error(`--rows must be a multiple of ${SERIES}`);
  const name = keep ? KEPT_DATABASE : `mymonit_bench_api_${randomBytes(4).toString('hex')}`;
  const url = `${MYSQL_ROOT}/${name}`;
  const instants = rows / SERIES;
  const stepMicros = Math.floor(YEAR_MICROS / instants);
  await migrate(url);
  const conn = await connect(url);
  try {
    await conn.query('CREATE TABLE IF NOT EXISTS bench_dataset (rows_loaded BIGINT NOT NULL, step_micros BIGINT NOT NULL)');
    const [marker] = await conn.query('SELECT rows_loaded, step_micros FROM bench_dataset');
    const loaded = (marker as Array<{ rows_loaded: number; step_micros: number }>)[0];
    await conn.query("INSERT IGNORE INTO experiments (name) VALUES ('bench-api')");
    const [exp] = await conn.query("SELECT id FROM experiments WHERE name = 'bench-api'");
    const experimentId = (exp as Array<{ id: number }>)[0].id;
    const reused = loaded !== undefined && Number(loaded.rows_loaded) === rows && Number(loaded.step_micros) === stepMicros;
    if (!reused) {
      await conn.query('DELETE FROM bench_dataset');
      await conn.query('DELETE FROM measures WHERE experiment_id = ?', [experimentId]);
      const started = Date.now();
      const seriesSql = DATASET_TYPES.flatMap((t, ti) =>
        DATASET_SOURCES.map((s, si) => `SELECT '${t}' AS type_name, '${s}' AS source, ${(ti * DATASET_SOURCES.length + si) * 3_000_000} AS offset_us`),
      ).join(' UNION ALL ');
      for (let first = 0; first < instants; first += INSTANTS_PER_STATEMENT) {
        const last = Math.min(first + INSTANTS_PER_STATEMENT, instants);
        await conn.query(
          `INSERT INTO measures (experiment_id, ts, measure_type_id, source, value)
           SELECT ?, DATE_ADD(?, INTERVAL (k.n * ? + s.offset_us) MICROSECOND), t.id, s.source,
                  ROUND(100 * SIN(k.n / 2880 + t.id) + 20 * RAND(), 4)
           FROM (SELECT ? + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
                 FROM (${DIGITS}) a CROSS JOIN (${DIGITS}) b CROSS JOIN (${DIGITS}) c CROSS JOIN (${DIGITS}) e CROSS JOIN (${DIGITS}) f) k
           CROSS JOIN (${seriesSql}) s
           JOIN measure_types t ON t.name = s.type_name
           WHERE k.n < ?
           ORDER BY k.n, s.offset_us`,
          [experimentId, '2025-01-01 00:00:00', stepMicros, first, last],
        );
        log(`loaded ${(last * SERIES).toLocaleString('en')} of ${rows.toLocaleString('en')} rows (${Math.round((Date.now() - started) / 1000)} s)`);
      }
      await conn.query('ANALYZE TABLE measures');
      await conn.query('INSERT INTO bench_dataset (rows_loaded, step_micros) VALUES (?, ?)', [rows, stepMicros]);
    }
    return {
      url,
      experimentId,
      rows,
      firstMicros: FIRST_MICROS,
      endMicros: FIRST_MICROS + instants * stepMicros,
      reused,
      drop: () => dropDatabase(url),
    };
  } finally {
    await conn.end();
  }
}

/** A SCIENTIST row for a Firebase uid, associated with the experiment. */
export async function addScientist(url: string, experimentId: number, uid: string): Promise<string> {
  const id = `B${randomBytes(3).toString('hex')}`;
  const conn = await connect(url);
  try {
    await conn.query("INSERT INTO users (id, name, username, email, role) VALUES (?, 'Bench Scientist', ?, ?, 'SCIENTIST')", [id, uid, `${id}@bench.mymonit`]);
    await conn.query('INSERT INTO user_experiments (experiment_id, user_id) VALUES (?, ?)', [experimentId, id]);
  } finally {
    await conn.end();
  }
  return id;
}
