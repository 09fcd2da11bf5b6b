import autocannon from 'autocannon';
import { Pool } from 'undici';

/**
 * Load for bench/api.bench.ts. Two shapes:
 * - paced(): an open-loop generator sending one request every 1/rate s, whatever the responses
 *   do, as clients of a service do. autocannon's own rate limit is not that: each connection sends
 *   its quota back to back at the start of every second, so 200 requests/s arrive as one burst per
 *   second and the latency measured is mostly queueing behind the burst.
 * - saturate(): autocannon with a few connections as fast as the server answers, for the most
 *   requests per second.
 */

export interface LoadFigures {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Non-200 answers, errors and timeouts. */
  readonly failed: number;
  /** paced() only: how late the generator sent its requests (it shares the machine), p99 and max. */
  readonly sendLagP99Ms?: number;
  readonly sendLagMaxMs?: number;
  /** paced() only: the generator's own CPU time per request, taken from the machine it shares. */
  readonly generatorCpuMs?: number;
}

export interface LoadOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly seconds: number;
  /** The path of each request (random offsets). */
  readonly path: () => string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (x: number): number => Math.round(x * 100) / 100;

function figures(latencies: number[], failed: number, seconds: number): LoadFigures {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: Math.round((latencies.length / seconds) * 10) / 10,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? NaN),
    failed,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `rate` requests per second, evenly spaced, for `seconds`. Latency runs from the moment a request
 * is due to the last byte of its response: a request the generator sent late (it shares the
 * machine) is charged its lateness too, so a stalled server cannot hide behind a stalled client.
 * Requests go through an undici pool (one request per connection at a time, as many connections
 * as requests in flight), a lighter client than node:http on a machine the server under test
 * shares: side by side at 200 pages/s its own lateness (p99) was 4.3–5.6 ms against 7.2–8.0 ms.
 * Its own CPU time per request is reported: it is taken from the server under test. For a
 * 1,000-row page (about 100 kB) it was 0.70-0.79 ms, a fifth of all the work the machine did per
 * request; reading through undici's dispatcher interface instead of its body stream made no
 * difference (the time goes to parsing), and node:http took 1.08 ms.
 */
export async function paced(o: LoadOptions & { readonly rate: number }): Promise<LoadFigures> {
  const pool = new Pool(o.baseUrl, { connections: 256, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const headers = { authorization: `Bearer ${o.token}` };
  const latencies: number[] = [];
  const lags: number[] = [];
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const one = async (due: bigint): Promise<void> => {
    lags.push(Number(process.hrtime.bigint() - due) / 1e6);
    try {
      const res = await pool.request({ method: 'GET', path: o.path(), headers });
      for await (const chunk of res.body) void chunk;
      latencies.push(Number(process.hrtime.bigint() - due) / 1e6);
      if (res.statusCode !== 200) failed++;
    } catch {
      failed++;
    }
  };
  const interval = 1e9 / o.rate;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const total = Math.round(o.rate * o.seconds);
  for (let i = 0; i < total; i++) {
    const due = start + BigInt(Math.round(i * interval));
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait > 1) await sleep(wait - 0.5);
    const p = one(due);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  await pool.close();
  lags.sort((a, b) => a - b);
  return {
    ...figures(latencies, failed, seconds),
    sendLagP99Ms: round(percentile(lags, 99)),
    sendLagMaxMs: round(lags[lags.length - 1] ?? NaN),
    generatorCpuMs: Math.round((cpu.user + cpu.system) / total) / 1000,
  };
}

/** autocannon with `connections` connections, each sending its next request on the last answer. */
export async function saturate(o: LoadOptions & { readonly connections: number }): Promise<LoadFigures> {
  const latencies: number[] = [];
  let failed = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.baseUrl,
        connections: o.connections,
        duration: o.seconds,
        timeout: 10,
        headers: { authorization: `Bearer ${o.token}` },
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: o.path() }) }],
      },
      (err: unknown, r) => (err ? reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err })) : resolve(r)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (status !== 200) failed++;
    });
  });
  return figures(latencies, failed + result.errors + result.timeouts, result.duration);
}
