import { DEFAULT_LIVE_STREAM_SETTINGS } from '../services/api/domain/live-measures.service';
import { apiEnvProblems, ConfigError, loadApiConfig, loadConfig } from '../services/shared/config';

/** The API's configuration rules (services/shared/config.ts); pure, no services needed. */

function problems(env: Record<string, string>): string[] {
  try {
    loadApiConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

test('defaults: port 8080, the demo project, CORS off, no trusted proxy', () => {
  const c = loadApiConfig({});
  expect(c.api).toEqual({
    port: 8080,
    firebaseProjectId: 'demo-mymonit',
    firebaseAuthEmulatorHost: undefined,
    corsOrigins: [],
    trustProxy: false,
    bodyLimitBytes: 65536,
    rateLimit: { windowMs: 60000, perIp: 1200, perUser: 600 },
    pageLimit: { default: 1000, max: 10000 },
    liveStreams: { pollMs: 1000, heartbeatMs: 15000, accessRecheckMs: 15000, maxPerUser: 5, maxTotal: 500 },
  });
  expect(Object.isFrozen(c.api.rateLimit)).toBe(true);
});

test('the live stream defaults are the live measure service defaults (batchSize is not an operator setting)', () => {
  const fromConfig = { ...loadApiConfig({}).api.liveStreams, batchSize: DEFAULT_LIVE_STREAM_SETTINGS.batchSize };
  expect(fromConfig).toEqual(DEFAULT_LIVE_STREAM_SETTINGS);
});

test('production refuses the emulator and requires a real project', () => {
  expect(problems({ NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'mymonit-prod', FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' })).toEqual([
    expect.stringMatching(/^FIREBASE_AUTH_EMULATOR_HOST: must not be set/),
  ]);
  expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^FIREBASE_PROJECT_ID: is required/)]);
  expect(problems({ NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'demo-x' })).toEqual([expect.stringMatching(/^FIREBASE_PROJECT_ID: a demo- project/)]);
  expect(loadApiConfig({ NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'mymonit-prod' }).api.firebaseProjectId).toBe('mymonit-prod');
  // Empty counts as unset, as elsewhere in the config.
  expect(problems({ NODE_ENV: 'production', FIREBASE_PROJECT_ID: 'mymonit-prod', FIREBASE_AUTH_EMULATOR_HOST: '' })).toEqual([]);
});

test('the emulator is fine outside production', () => {
  expect(loadApiConfig({ NODE_ENV: 'test', FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' }).api.firebaseAuthEmulatorHost).toBe('127.0.0.1:9099');
});

test('other processes are not held to the API rules', () => {
  expect(apiEnvProblems).toBeInstanceOf(Function);
  expect(loadConfig(['common', 'api'], { NODE_ENV: 'production' }).api.firebaseProjectId).toBe('demo-mymonit');
});

test('hardening options are parsed and checked', () => {
  const c = loadApiConfig({
    API_CORS_ORIGINS: 'https://monit.example.org, http://localhost:5173',
    API_TRUST_PROXY: '1',
    API_RATE_LIMIT_PER_USER: '10',
  });
  expect(c.api.corsOrigins).toEqual(['https://monit.example.org', 'http://localhost:5173']);
  expect(c.api.trustProxy).toBe(1);
  expect(c.api.rateLimit.perUser).toBe(10);
  expect(loadApiConfig({ API_TRUST_PROXY: 'loopback' }).api.trustProxy).toBe('loopback');
  expect(loadApiConfig({ API_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).api.trustProxy).toBe('10.0.0.0/8, 127.0.0.1');

  const bad = problems({
    API_CORS_ORIGINS: '*',
    API_TRUST_PROXY: 'everyone',
    API_PORT: '99999',
    FIREBASE_AUTH_EMULATOR_HOST: 'http://127.0.0.1:9099',
    API_PAGE_LIMIT_MAX: 'lots',
    API_STREAM_MAX_PER_USER: '0',
  });
  for (const v of ['API_CORS_ORIGINS', 'API_TRUST_PROXY', 'API_PORT', 'FIREBASE_AUTH_EMULATOR_HOST', 'API_PAGE_LIMIT_MAX', 'API_STREAM_MAX_PER_USER']) {
    expect(bad.join('\n')).toContain(v);
  }
  expect(problems({ API_PAGE_LIMIT_DEFAULT: '500', API_PAGE_LIMIT_MAX: '100' })).toEqual([expect.stringMatching(/^API_PAGE_LIMIT_DEFAULT/)]);
});
