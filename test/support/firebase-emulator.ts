import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createAccount, setDisabled, setValidSince, signIn } from '../../scripts/token';
import type { EmulatorSession } from '../../scripts/token';
import { ROOT } from './processes';
import { waitFor } from './services';

/**
 * The Firebase Auth emulator, shared by every test file (and jest worker) that needs it. A test
 * file calls useAuthEmulator() in beforeAll and release() in afterAll. The first user starts the
 * emulator (detached, so it outlives the worker that started it) unless one is already listening;
 * leases, one file per process, are counted under a lock directory, and the last process to leave
 * stops the emulator only if a test started it, by the pid it recorded. An emulator someone
 * started by hand (or `npm run demo`) is used and left alone.
 */

export const AUTH_EMULATOR_HOST = process.env.TEST_AUTH_EMULATOR_HOST ?? '127.0.0.1:9099';
export const FIREBASE_PROJECT_ID = 'demo-mymonit';

const [HOST, PORT] = [AUTH_EMULATOR_HOST.split(':')[0], Number(AUTH_EMULATOR_HOST.split(':')[1])];
const STATE_DIR = path.join(os.tmpdir(), `mymonit-auth-emulator-${PORT}`);
const LOCK_DIR = path.join(STATE_DIR, 'lock');
const LEASES_DIR = path.join(STATE_DIR, 'leases');
const PID_FILE = path.join(STATE_DIR, 'started-by-tests.pid');
const LOG_FILE = path.join(STATE_DIR, 'emulator.log');
const STALE_LOCK_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listening(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(PORT, HOST);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function withLock<T>(fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > STALE_LOCK_MS) rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {
        // Removed by its owner meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_DIR}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function startedPid(): number | undefined {
  try {
    const pid = Number(readFileSync(PID_FILE, 'utf8'));
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function liveLeases(): string[] {
  mkdirSync(LEASES_DIR, { recursive: true });
  return readdirSync(LEASES_DIR).filter((f) => {
    // A lease file is named pid-n: one per lease, so one process may hold several (two APIs in one test file).
    if (alive(Number(f.split('-')[0]))) return true;
    rmSync(path.join(LEASES_DIR, f), { force: true });
    return false;
  });
}

async function ready(): Promise<boolean> {
  try {
    const res = await fetch(`http://${AUTH_EMULATOR_HOST}/emulator/v1/projects/${FIREBASE_PROJECT_ID}/config`);
    return res.ok;
  } catch {
    return false;
  }
}

export interface AuthEmulatorLease {
  release(): Promise<void>;
}

let leasesTaken = 0;

export async function useAuthEmulator(): Promise<AuthEmulatorLease> {
  const leaseFile = path.join(LEASES_DIR, `${process.pid}-${leasesTaken++}`);
  await withLock(async () => {
    mkdirSync(LEASES_DIR, { recursive: true });
    writeFileSync(leaseFile, '');
    if ((await listening()) || startedPid() !== undefined) return;
    const log = openSync(LOG_FILE, 'a');
    // The CLI's own entry point, not npx: one process group we can signal as a whole.
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js'), 'emulators:start', '--only', 'auth', '--project', FIREBASE_PROJECT_ID],
      { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error('could not start the Firebase Auth emulator');
    writeFileSync(PID_FILE, String(child.pid));
  });
  await waitFor(ready, `the Firebase Auth emulator on ${AUTH_EMULATOR_HOST} (log: ${LOG_FILE})`, 90_000, 200);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await withLock(async () => {
        rmSync(leaseFile, { force: true });
        if (liveLeases().length > 0) return;
        const pid = startedPid();
        if (pid === undefined) return;
        process.kill(-pid, 'SIGTERM');
        await waitFor(() => !alive(pid), 'the Firebase Auth emulator to stop', 20_000, 100).catch(() => {
          process.kill(-pid, 'SIGKILL');
        });
        try {
          unlinkSync(PID_FILE);
        } catch {
          // Already gone.
        }
      });
    },
  };
}

export interface TestIdentity extends EmulatorSession {
  readonly email: string;
  readonly password: string;
}

/** A fresh emulator account (unique e-mail, optional fixed uid) and an ID token for it. */
export async function newIdentity(label: string, uid?: string): Promise<TestIdentity> {
  const email = `${label.toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(4).toString('hex')}@test.mymonit`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await createAccount(AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID, { email, password, uid });
  const session = await signIn(AUTH_EMULATOR_HOST, email, password);
  return { ...session, email, password };
}

/** Revokes every token issued so far (they were issued in an earlier second than the one set). */
export async function revokeTokens(uid: string): Promise<void> {
  await setValidSince(AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID, uid, Math.floor(Date.now() / 1000) + 60);
}

export async function disable(uid: string): Promise<void> {
  await setDisabled(AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID, uid, true);
}

/** The same unsigned emulator token with its lifetime moved into the past. */
export function expiredCopy(idToken: string): string {
  const [header, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, number>;
  const past = Math.floor(Date.now() / 1000) - 7200;
  const changed = { ...claims, iat: past, auth_time: past, exp: past + 3600 };
  return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.`;
}
