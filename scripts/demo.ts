import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate, runSqlFile } from '../db/src/migrate';
import { loadConfig } from '../services/shared/config';
import { redactString } from '../services/shared/logger';

/**
 * `npm run demo`: the suite on this machine's local services. Migrates and seeds the database,
 * starts ingest and a simulated vibration sensor feeding `device-vibrations` through the stdin
 * adapter, prints where to look, and stops everything cleanly on Ctrl-C.
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

function start(name: string, entry: string, args: string[] = [], stdin: 'pipe' | 'ignore' = 'ignore'): Child {
  const log = createWriteStream(path.join(LOGS, `${name}.log`), { flags: 'a' });
  const proc = spawn(process.execPath, [path.join(DIST, entry), ...args], { stdio: [stdin, 'pipe', 'pipe'] });
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
    c.proc.kill('SIGTERM');
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

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  const config = loadConfig();
  const result = await migrate(config.mysqlUrl);
  await runSqlFile(config.mysqlUrl, path.join(ROOT, 'db', 'seeds', 'demo.sql'));
  process.stdout.write(`demo: database ${redactString(config.mysqlUrl)} ready (${result.applied.length} migrations applied, demo data loaded)\n`);

  start('ingest', 'services/ingest/main.js');
  const feed = start(
    'sensor-feed',
    'adapters/cli.js',
    ['stdin', '--experiment', 'device-vibrations', '--measure', 'hertz', '--source', 'demo-sensor-1'],
    'pipe',
  );
  const timer = feedSensor(feed);

  process.stdout.write(
    [
      '',
      'MyMONIT demo is running:',
      `  ingest metrics   http://127.0.0.1:${config.ingest.httpPort}/metrics  (ready: /readyz)`,
      '  RabbitMQ         http://127.0.0.1:15672  (guest / guest), queue "measures"',
      '  sensor feed      device-vibrations / hertz / demo-sensor-1, every 500 ms',
      `  logs             ${LOGS}`,
      '',
      'See the measures arrive:',
      "  mariadb -uroot -h127.0.0.1 mymonit -e 'SELECT ts, value, source FROM measures ORDER BY ts DESC LIMIT 5'",
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
