import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { connect } from '../db/src/pool';
import { migrate, runSqlFile } from '../db/src/migrate';
import { API_NODE_FLAGS } from '../services/api/node-flags';
import { loadConfig } from '../services/shared/config';
import { redactString } from '../services/shared/logger';
import { createAccount, DEFAULT_EMULATOR_HOST, DEMO_PASSWORD, EmulatorError, signIn } from './token';

/**
 * `npm run demo`: the suite on this machine's local services. Migrates and seeds the database,
 * starts the Firebase Auth emulator with the demo users signed up, the api, ingest and a simulated
 * vibration sensor feeding `device-vibrations` through the stdin adapter, prints where to look and
 * how to sign in, and stops everything cleanly on Ctrl-C.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const LOGS = path.join(ROOT, '.demo', 'logs');

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
}

const children: Child[] = [];

interface StartOptions {
  readonly args?: string[];
  readonly stdin?: 'pipe' | 'ignore';
  readonly env?: Record<string, string>;
  /** Node flags, before the script. */
  readonly nodeArgs?: readonly string[];
  /** The script to run, when not a dist/ entry point. */
  readonly script?: string;
  /** Its own process group, so the whole tree (e.g. the emulator's Java-free node workers) stops. */
  readonly group?: boolean;
}

function start(name: string, entry: string, opts: StartOptions = {}): Child {
  const log = createWriteStream(path.join(LOGS, `${name}.log`), { flags: 'a' });
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? path.join(DIST, entry), ...(opts.args ?? [])], {
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
    detached: opts.group ?? false,
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`demo: ${name} exited (${code ?? signal}); see ${path.join(LOGS, `${name}.log`)}\n`);
      resolve();
    }),
  );
  const child = { name, proc, exited };
  children.push(child);
  return child;
}

let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\ndemo: stopping…\n');
  // Feed first, so nothing it sent is left half-way; ingest drains and acks before it exits.
  for (const c of [...children].reverse()) {
    if (c.proc.pid !== undefined && c.proc.spawnargs.includes('emulators:start')) process.kill(-c.proc.pid, 'SIGTERM');
    else c.proc.kill('SIGTERM');
    await Promise.race([c.exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  process.stdout.write('demo: stopped\n');
}

/** A vibration sensor: 5 Hz base with a slow drift and noise, one reading every 500 ms. */
function feedSensor(feed: Child): NodeJS.Timeout {
  let t = 0;
  return setInterval(() => {
    t += 0.5;
    const value = 100 + 15 * Math.sin(t / 10) + 4 * Math.sin(t * 1.7) + (Math.random() - 0.5) * 3;
    feed.proc.stdin?.write(`${value.toFixed(3)}\n`);
  }, 500);
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up; see ${LOGS}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const httpOk = (url: string) => async (): Promise<boolean> => (await fetch(url)).ok;

/** Signs the demo users up in the emulator under the uids the database knows them by. */
async function signUpDemoUsers(mysqlUrl: string, host: string, projectId: string): Promise<Array<{ email: string; role: string }>> {
  const conn = await connect(mysqlUrl);
  let users: Array<{ email: string; username: string; role: string }>;
  try {
    const [rows] = await conn.query(
      "SELECT email, username, role FROM users WHERE email LIKE '%@home.cern' AND deleted_at IS NULL ORDER BY id",
    );
    users = rows as typeof users;
  } finally {
    await conn.end();
  }
  for (const u of users) {
    try {
      await createAccount(host, projectId, { email: u.email, password: DEMO_PASSWORD, uid: u.username });
    } catch (err) {
      // Already signed up by an earlier run against the same emulator.
      if (!(err instanceof EmulatorError && /EXISTS/.test(err.code))) throw err;
    }
  }
  return users;
}

async function experimentIdOf(mysqlUrl: string, name: string): Promise<number> {
  const conn = await connect(mysqlUrl);
  try {
    const [rows] = await conn.query('SELECT id FROM experiments WHERE name = ?', [name]);
    return (rows as Array<{ id: number }>)[0].id;
  } finally {
    await conn.end();
  }
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  // Every section of the processes it starts (api, ingest, the adapter): a bad variable stops the
  // demo before it starts anything.
  const config = loadConfig(['common', 'mysql', 'amqp', 'elasticsearch', 'ingest', 'api']);
  const result = await migrate(config.mysqlUrl);
  await runSqlFile(config.mysqlUrl, path.join(ROOT, 'db', 'seeds', 'demo.sql'));
  process.stdout.write(`demo: database ${redactString(config.mysqlUrl)} ready (${result.applied.length} migrations applied, demo data loaded)\n`);

  const emulatorHost = config.api.firebaseAuthEmulatorHost ?? DEFAULT_EMULATOR_HOST;
  const projectId = config.api.firebaseProjectId;
  const emulatorUp = httpOk(`http://${emulatorHost}/emulator/v1/projects/${projectId}/config`);
  if (!(await emulatorUp().catch(() => false))) {
    start('auth-emulator', '', {
      script: path.join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js'),
      args: ['emulators:start', '--only', 'auth', '--project', projectId],
      env: { CI: 'true' },
      group: true,
    });
    await waitUntil('the Firebase Auth emulator', emulatorUp);
  }
  const users = await signUpDemoUsers(config.mysqlUrl, emulatorHost, projectId);
  const experimentId = await experimentIdOf(config.mysqlUrl, 'device-vibrations');

  const apiUrl = `http://127.0.0.1:${config.api.port}`;
  start('api', 'services/api/main.js', {
    nodeArgs: API_NODE_FLAGS,
    env: { FIREBASE_AUTH_EMULATOR_HOST: emulatorHost, API_WEB_DIR: path.join(ROOT, 'web', 'dist') },
  });
  start('ingest', 'services/ingest/main.js');
  await waitUntil('the api', httpOk(`${apiUrl}/readyz`));
  const feed = start('sensor-feed', 'adapters/cli.js', {
    args: ['stdin', '--experiment', 'device-vibrations', '--measure', 'hertz', '--source', 'demo-sensor-1'],
    stdin: 'pipe',
  });
  const timer = feedSensor(feed);
  const scientist = users.find((u) => u.role === 'SCIENTIST')?.email ?? 'phigg@home.cern';
  const since = new Date().toISOString();
  const token = (await signIn(emulatorHost, scientist, DEMO_PASSWORD)).idToken;

  process.stdout.write(
    [
      '',
      'MyMONIT demo is running:',
      `  web page         ${apiUrl}/  (sign in with a demo user below)`,
      `  api              ${apiUrl}  (OpenAPI: ${apiUrl}/openapi.json, docs: ${apiUrl}/docs)`,
      `  auth emulator    http://${emulatorHost}  (project ${projectId})`,
      `  ingest metrics   http://127.0.0.1:${config.ingest.httpPort}/metrics  (ready: /readyz)`,
      '  RabbitMQ         http://127.0.0.1:15672  (guest / guest), queue "measures"',
      '  sensor feed      device-vibrations / hertz / demo-sensor-1, every 500 ms',
      `  logs             ${LOGS}`,
      '',
      `Sign in (password ${DEMO_PASSWORD} for each):`,
      ...users.map((u) => `  ${u.email.padEnd(20)} ${u.role}`),
      '',
      `Read the live measures as ${scientist} (token valid for an hour; a new one: npm run -s token -- ${scientist}):`,
      `  curl -s -H 'Authorization: Bearer ${token}' '${apiUrl}/measures/${experimentId}?source=demo-sensor-1&from=${since}&limit=10'`,
      'Publish your own:',
      '  echo 42.5 | npm run -s adapter -- stdin --experiment device-vibrations --measure hertz',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      clearInterval(timer);
      feed.proc.stdin?.end();
      void stopAll().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`demo failed: ${redactString(err instanceof Error ? err.message : String(err))}\n`);
    await stopAll();
    process.exit(1);
  },
);
