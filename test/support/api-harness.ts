import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FirebaseTokenVerifier } from '../../services/api/auth/firebase-token-verifier';
import { composeApi } from '../../services/api/main';
import { loadApiConfig } from '../../services/shared/config';
import { createLogger } from '../../services/shared/logger';
import { createMetrics } from '../../services/shared/metrics';
import type { AuthEmulatorLease, TestIdentity } from './firebase-emulator';
import { AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID, newIdentity, useAuthEmulator } from './firebase-emulator';
import { createTestDatabase } from './services';
import type { TestDatabase } from './services';

/**
 * The API in-process, composed exactly as main.ts composes it, against a database of its own on
 * the real MariaDB and the real Firebase Auth emulator; requests go over real HTTP.
 */

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent verbatim (malformed JSON, huge bodies). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface TestUser extends TestIdentity {
  readonly id: string;
  readonly role: 'ADMIN' | 'SCIENTIST';
}

export interface ApiHarness {
  readonly db: TestDatabase;
  readonly baseUrl: string;
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  /** An emulator account plus a users row mapping its uid. */
  user(role: 'ADMIN' | 'SCIENTIST', id?: string): Promise<TestUser>;
  /** Inserts an experiment directly; returns its id. */
  experiment(name?: string): Promise<number>;
  associate(experimentId: number, userId: string): Promise<void>;
  close(): Promise<void>;
}

export async function startApi(prefix: string, env: Record<string, string> = {}): Promise<ApiHarness> {
  const lease: AuthEmulatorLease = await useAuthEmulator();
  const db = await createTestDatabase(prefix);
  const config = loadApiConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    MYSQL_URL: db.url,
    FIREBASE_PROJECT_ID,
    FIREBASE_AUTH_EMULATOR_HOST: AUTH_EMULATOR_HOST,
    ...env,
  });
  const logger = createLogger({ service: 'mymonit-api-test', level: config.logLevel });
  // firebase-admin finds the emulator through the environment, as in main.ts.
  process.env.FIREBASE_AUTH_EMULATOR_HOST = AUTH_EMULATOR_HOST;
  const tokenVerifier = new FirebaseTokenVerifier({ projectId: config.api.firebaseProjectId });
  const app = composeApi({ config, logger, metrics: createMetrics('api-test'), pool: db.pool, tokenVerifier });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  let n = 0;
  return {
    db,
    baseUrl,
    request,
    user: async (role, id) => {
      const userId = id ?? `${role === 'ADMIN' ? 'A' : 'S'}${randomBytes(3).toString('hex')}${n++}`;
      const identity = await newIdentity(userId);
      await db.pool.query('INSERT INTO users (id, name, username, email, role) VALUES (?, ?, ?, ?, ?)', [
        userId,
        `Test ${userId}`,
        identity.uid,
        identity.email,
        role,
      ]);
      return { ...identity, id: userId, role };
    },
    experiment: async (name) => {
      const [r] = await db.pool.query('INSERT INTO experiments (name) VALUES (?)', [name ?? `exp-${randomBytes(4).toString('hex')}`]);
      return (r as { insertId: number }).insertId;
    },
    associate: async (experimentId, userId) => {
      await db.pool.query('INSERT INTO user_experiments (experiment_id, user_id) VALUES (?, ?)', [experimentId, userId]);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tokenVerifier.close();
      await db.drop();
      await lease.release();
    },
  };
}
