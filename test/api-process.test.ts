import net from 'node:net';
import { spawnNode, startApiProcess } from './support/processes';
import { AUTH_EMULATOR_HOST, newIdentity, useAuthEmulator } from './support/firebase-emulator';
import type { AuthEmulatorLease } from './support/firebase-emulator';
import { createTestDatabase, freePort } from './support/services';
import type { TestDatabase } from './support/services';

/** The built API process (dist/services/api/main.js): its start-up refusals and its graceful stop. */

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test('with NODE_ENV=production the API refuses to start while FIREBASE_AUTH_EMULATOR_HOST is set', async () => {
  const port = await freePort();
  const api = spawnNode('services/api/main.js', {
    NODE_ENV: 'production',
    FIREBASE_PROJECT_ID: 'mymonit-prod',
    FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
    API_PORT: String(port),
  });
  expect(await api.exited).toBe(1);
  expect(api.output()).toMatch(/FIREBASE_AUTH_EMULATOR_HOST: must not be set when NODE_ENV=production/);
  expect(await refused(port)).toBe(true);
});

test('with NODE_ENV=production the API requires a real FIREBASE_PROJECT_ID', async () => {
  const missing = spawnNode('services/api/main.js', { NODE_ENV: 'production', API_PORT: String(await freePort()) });
  expect(await missing.exited).toBe(1);
  expect(missing.output()).toMatch(/FIREBASE_PROJECT_ID: is required when NODE_ENV=production/);

  const demo = spawnNode('services/api/main.js', { NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'demo-mymonit' });
  expect(await demo.exited).toBe(1);
  expect(demo.output()).toMatch(/FIREBASE_PROJECT_ID: a demo- project/);
});

describe('a running API', () => {
  let lease: AuthEmulatorLease;
  let db: TestDatabase;
  beforeAll(async () => {
    lease = await useAuthEmulator();
    db = await createTestDatabase('api_process');
  });
  afterAll(async () => {
    await db?.drop();
    await lease?.release();
  });

  test('serves, reports ready, and stops cleanly on SIGTERM', async () => {
    const api = await startApiProcess({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      MYSQL_URL: db.url,
      FIREBASE_AUTH_EMULATOR_HOST: AUTH_EMULATOR_HOST,
    });
    const { base, port } = api;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const res = await fetch(`${base}/experiments/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/experiments"[^}]*status="401"/);
    expect(metrics).toMatch(/http_request_duration_seconds_bucket\{/);

    api.proc.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.output()).toMatch(/api stopped/);
    expect(await refused(port)).toBe(true);
  });

  test('reports not ready while the database is unreachable, and answers 503 rather than 500', async () => {
    const deadDb = `mysql://root@127.0.0.1:${await freePort()}/mymonit`;
    const api = await startApiProcess({
      MYSQL_URL: deadDb,
      LOG_LEVEL: 'error',
      FIREBASE_AUTH_EMULATOR_HOST: AUTH_EMULATOR_HOST,
    });
    const { base } = api;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', reason: 'database unreachable' });
    // A valid token, but the user lookup cannot reach the database.
    const identity = await newIdentity('outage');
    const res = await fetch(`${base}/experiments`, { headers: { authorization: `Bearer ${identity.idToken}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.text()).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|at /);
    api.proc.kill('SIGINT');
    expect(await api.exited).toBe(0);
  });
});
