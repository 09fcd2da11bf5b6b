import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Position } from './journal-format';

/**
 * The small files of a journal directory besides its segments: the checkpoint (what the broker has
 * confirmed), replaced atomically, and the lock that keeps two processes off one directory.
 */

export const CHECKPOINT_FILE = 'checkpoint.json';
export const LOCK_FILE = 'journal.lock';

export interface Checkpoint {
  /** Names this journal in message ids, so ids of two adapters never collide. */
  readonly journalId: string;
  /** Everything before this position has been confirmed by the broker. */
  readonly position: Position;
}

export type CheckpointRead = { readonly kind: 'missing' } | { readonly kind: 'corrupt'; readonly why: string } | { readonly kind: 'ok'; readonly checkpoint: Checkpoint };

export function newJournalId(): string {
  return randomBytes(6).toString('hex');
}

/** fsync of a directory makes a created, renamed or deleted entry in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function readCheckpoint(dir: string): Promise<CheckpointRead> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const { version, journalId, segment, offset } = doc;
    if (version !== 1 || typeof journalId !== 'string' || !/^[0-9a-f]{1,64}$/.test(journalId)) throw new Error('bad header');
    if (!Number.isSafeInteger(segment) || !Number.isSafeInteger(offset) || (segment as number) < 1 || (offset as number) < 0) {
      throw new Error('bad position');
    }
    return { kind: 'ok', checkpoint: { journalId, position: { segment: segment as number, offset: offset as number } } };
  } catch (err) {
    return { kind: 'corrupt', why: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Replaces the checkpoint so that a crash at any moment leaves either the old or the new one:
 * write a temporary file, fsync it, rename it over the old one, fsync the directory.
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const body = JSON.stringify({
    version: 1,
    journalId: checkpoint.journalId,
    segment: checkpoint.position.segment,
    offset: checkpoint.position.offset,
    savedAt: new Date().toISOString(),
  });
  const tmp = path.join(dir, `${CHECKPOINT_FILE}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(`${body}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, path.join(dir, CHECKPOINT_FILE));
  await syncDirectory(dir);
}

export class JournalLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`journal directory ${dir} is in use by process ${pid}`);
    this.name = 'JournalLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock file (holding our pid). A lock left by a process that no longer runs
 * (killed, crashed) is taken over; one held by a live process, this one included, is refused.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return async () => {
        await fs.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) throw new JournalLockedError(dir, holder);
    await fs.rm(file, { force: true });
  }
}
