import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, waitFor } from './services';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface Spawned {
  readonly proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Starts a built entry point (dist/…) with the given environment; collects its output. */
export function spawnNode(entry: string, env: Record<string, string>, args: string[] = []): Spawned {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', entry), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { proc, output: () => out, exited };
}

export interface IngestProcess extends Spawned {
  readonly opsPort: number;
  readyz(): Promise<number>;
}

let nextPort = 19000 + (process.pid % 1000) * 10;

/** Starts the ingest service against the given database and vhost; waits until it is ready. */
export async function startIngest(env: Record<string, string>): Promise<IngestProcess> {
  const opsPort = nextPort++;
  const spawned = spawnNode('services/ingest/main.js', { LOG_LEVEL: 'warn', INGEST_HTTP_PORT: String(opsPort), ...env });
  const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status;
  await waitFor(async () => (await readyz()) === 200, `ingest ready\n${spawned.output()}`, 30_000);
  return { ...spawned, opsPort, readyz };
}

/** The HTTP and ops ports an influx adapter started with --port 0 --metrics-port 0 says it listens on. */
export async function influxPorts(spawned: Spawned): Promise<{ port: number; metricsPort: number }> {
  const [port, metricsPort] = await waitFor(() => {
    if (spawned.proc.exitCode !== null) throw new Error(`the adapter exited:\n${spawned.output()}`);
    const out = spawned.output();
    const http = /"message":"influx endpoint listening".*?"port":(\d+)/.exec(out);
    const ops = /"message":"ops port listening","port":(\d+)/.exec(out);
    return http && ops ? [Number(http[1]), Number(ops[1])] : undefined;
  }, 'the influx endpoint to listen', 30_000);
  return { port, metricsPort };
}

export interface ApiProcess extends Spawned {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly base: string;
}

/** The built API (dist/services/api/main.js) on a free port with `env`, once /healthz answers. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const api = spawnNode('services/api/main.js', { ...env, API_PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, `api up\n${api.output()}`, 30_000);
  return { ...api, port, base };
}
