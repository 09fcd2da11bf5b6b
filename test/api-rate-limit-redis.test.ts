import { createClient } from '@redis/client';
import { AUTH_EMULATOR_HOST, useAuthEmulator } from './support/firebase-emulator';
import type { AuthEmulatorLease } from './support/firebase-emulator';
import { startApiProcess } from './support/processes';
import type { Spawned } from './support/processes';
import { createTestDatabase, waitFor } from './support/services';
import type { TestDatabase } from './support/services';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Rate limits shared through Redis (API_RATE_LIMIT_REDIS_URL), with real API processes and the
 * local Redis behind a proxy the test can cut: processes count together; while Redis is away
 * requests pass and the outage is logged once; a process that started during the outage limits
 * again once Redis is back.
 */

/** A logical database of the local Redis that nothing else here uses; our keys are deleted after. */
const REDIS_DB = 15;
const PREFIX = 'mymonit:rate-limit:';
const PER_IP = 6;

let lease: AuthEmulatorLease;
let db: TestDatabase;
let proxy: TcpProxy;
const redis = createClient({ url: `redis://127.0.0.1:6379/${REDIS_DB}` });
const started: Spawned[] = [];

async function deleteOurKeys(): Promise<void> {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(keys);
}

async function startApi(): Promise<{ base: string; api: Spawned }> {
  const api = await startApiProcess({
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    MYSQL_URL: db.url,
    FIREBASE_AUTH_EMULATOR_HOST: AUTH_EMULATOR_HOST,
    API_RATE_LIMIT_PER_IP: String(PER_IP),
    API_RATE_LIMIT_REDIS_URL: `redis://${proxy.hostPort}/${REDIS_DB}`,
  });
  started.push(api);
  return { base: api.base, api };
}

const count = (text: string, what: string): number => text.split(what).length - 1;

/** Status of an unauthenticated call: 401 while under the limit, 429 beyond it. */
async function status(base: string): Promise<number> {
  return (await fetch(`${base}/experiments/`)).status;
}

beforeAll(async () => {
  lease = await useAuthEmulator();
  db = await createTestDatabase('api_rate_redis');
  proxy = await new TcpProxy('127.0.0.1', 6379).start();
  await redis.connect();
  await deleteOurKeys();
});

afterAll(async () => {
  // Each stops cleanly, its Redis connection included.
  for (const api of started) api.proc.kill('SIGTERM');
  expect(await Promise.all(started.map((api) => api.exited))).toEqual(started.map(() => 0));
  if (redis.isOpen) {
    await deleteOurKeys();
    redis.destroy();
  }
  await proxy?.stop();
  await db?.drop();
  await lease?.release();
});

beforeEach(async () => {
  proxy.restore();
  await deleteOurKeys();
});

test('two API processes count one per-IP limit together, in Redis', async () => {
  const a = await startApi();
  const b = await startApi();
  for (const { api } of [a, b]) await waitFor(() => api.output().includes('rate-limit store connected'), `redis connected\n${api.output()}`, 15_000);

  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push(await status(a.base));
  for (let i = 0; i < 3; i++) statuses.push(await status(b.base));
  statuses.push(await status(a.base));
  // Each process alone has seen at most 5 requests: only a shared count reaches the limit of 6.
  expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
  const keys = await redis.keys(`${PREFIX}ip:*`);
  expect(keys).toHaveLength(1);
  expect(await redis.pTTL(keys[0])).toBeGreaterThan(0);
});

test('while Redis is away requests pass, logged once; a process started meanwhile limits once it is back', async () => {
  proxy.cut();
  const c = await startApi();
  const during: number[] = [];
  for (let i = 0; i < PER_IP + 3; i++) during.push(await status(c.base));
  // Not rate limited, and never a 500: the counters' outage is not one of the API.
  expect(during).toEqual(Array.from({ length: PER_IP + 3 }, () => 401));
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // a few reconnect attempts
  expect(count(c.api.output(), 'rate-limit store unreachable')).toBe(1);
  // Not a line per request either (express-rate-limit's own report of each failing call).
  expect(c.api.output()).not.toMatch(/error from store|allowing request without rate-limiting/);
  expect(c.api.output()).not.toContain('rate-limit store connected');

  proxy.restore();
  await waitFor(() => c.api.output().includes('rate-limit store connected'), `redis connected\n${c.api.output()}`, 20_000);
  const after: number[] = [];
  for (let i = 0; i < PER_IP + 1; i++) after.push(await status(c.base));
  expect(after).toEqual([...Array.from({ length: PER_IP }, () => 401), 429]);
});
