import { connect } from '../db/src/pool';
import { ConfigError, loadConfig } from '../services/shared/config';
import { redactString } from '../services/shared/logger';

/**
 * `npm run token -- <email> [--password <password>]`: prints a Firebase ID token for a user of
 * the local Auth emulator, for curl or Postman (`Authorization: Bearer <token>`). A user that
 * exists in the database but not yet in the emulator is created there with the database's
 * username as uid, so the demo users can sign in right after `npm run db:migrate -- --seed demo`.
 * Emulator only: its tokens are unsigned and worthless against real Firebase.
 */

export const DEFAULT_EMULATOR_HOST = '127.0.0.1:9099';
export const DEMO_PASSWORD = 'mymonit-demo';
const API_KEY = 'fake-api-key';

export interface EmulatorSession {
  readonly uid: string;
  readonly idToken: string;
}

export class EmulatorError extends Error {
  constructor(readonly code: string) {
    super(`auth emulator: ${code}`);
    this.name = 'EmulatorError';
  }
}

async function call(host: string, path: string, body: unknown, owner = false): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${host}/identitytoolkit.googleapis.com/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(owner ? { authorization: 'Bearer owner' } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    const message = (json.error as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
    throw new EmulatorError(message);
  }
  return json;
}

/** Creates an account; with `uid`, under that uid (an administrator's call on the emulator). */
export async function createAccount(
  host: string,
  projectId: string,
  a: { email: string; password: string; uid?: string },
): Promise<string> {
  const r = a.uid
    ? await call(host, `projects/${projectId}/accounts`, { localId: a.uid, email: a.email, password: a.password }, true)
    : await call(host, `accounts:signUp?key=${API_KEY}`, { email: a.email, password: a.password, returnSecureToken: true });
  return String(r.localId);
}

export async function signIn(host: string, email: string, password: string): Promise<EmulatorSession> {
  const r = await call(host, `accounts:signInWithPassword?key=${API_KEY}`, { email, password, returnSecureToken: true });
  return { uid: String(r.localId), idToken: String(r.idToken) };
}

/** Tokens issued before `validSinceSeconds` count as revoked for verifyIdToken(token, true). */
export async function setValidSince(host: string, projectId: string, uid: string, validSinceSeconds: number): Promise<void> {
  await call(host, `projects/${projectId}/accounts:update`, { localId: uid, validSince: String(validSinceSeconds) }, true);
}

export async function setDisabled(host: string, projectId: string, uid: string, disabled: boolean): Promise<void> {
  await call(host, `projects/${projectId}/accounts:update`, { localId: uid, disableUser: disabled }, true);
}

async function usernameOf(mysqlUrl: string, email: string): Promise<string | undefined> {
  const conn = await connect(mysqlUrl);
  try {
    const [rows] = await conn.query('SELECT username FROM users WHERE email = ? AND deleted_at IS NULL', [email]);
    return (rows as Array<{ username: string | null }>)[0]?.username ?? undefined;
  } finally {
    await conn.end();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const email = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--password');
  const pwAt = args.indexOf('--password');
  const password = pwAt >= 0 ? args[pwAt + 1] : DEMO_PASSWORD;
  if (!email || !password) throw new Error('usage: npm run token -- <email> [--password <password>]');
  const config = loadConfig(['common', 'mysql', 'api']);
  if (config.nodeEnv === 'production') throw new Error('token.ts works against the Auth emulator only, not in production');
  const host = config.api.firebaseAuthEmulatorHost ?? DEFAULT_EMULATOR_HOST;
  const projectId = config.api.firebaseProjectId;
  let session: EmulatorSession;
  try {
    session = await signIn(host, email, password);
  } catch (err) {
    if (!(err instanceof EmulatorError && err.code.startsWith('EMAIL_NOT_FOUND'))) throw err;
    const uid = await usernameOf(config.mysqlUrl, email);
    if (!uid) throw new Error(`${email} is neither in the emulator nor an active user in the database`, { cause: err });
    await createAccount(host, projectId, { email, password, uid });
    session = await signIn(host, email, password);
  }
  process.stdout.write(`${session.idToken}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const message = err instanceof ConfigError ? err.message : redactString(err instanceof Error ? err.message : String(err));
    process.stderr.write(`${message}\n`);
    process.exit(1);
  });
}
