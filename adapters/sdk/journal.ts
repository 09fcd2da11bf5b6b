import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from './durable-sink';
import type { DurableSink } from './durable-sink';
import { comparePositions, decodeMeasures, encodeRecord, readAppendedAt, readRecords, segmentFileName, segmentIdOf } from './journal-format';
import type { Position } from './journal-format';
import { CHECKPOINT_FILE, lockDirectory, newJournalId, readCheckpoint, syncDirectory, writeCheckpoint } from './journal-files';

export type { Position } from './journal-format';
export { comparePositions } from './journal-format';

/**
 * The adapter's store-and-forward journal (DESIGN §1): append-only segment files in one directory.
 * `append` resolves once its record is on disk (fsync); appends that arrive while a write is under
 * way share the next write and fsync (group commit). A forwarder reads records in order and, as
 * the broker confirms them, moves the checkpoint on; segments wholly before the checkpoint are
 * deleted. The journal never holds more than maxBytes: past that `append` rejects with
 * JournalFullError and the source must try again later. Nothing accepted is ever dropped.
 *
 * One process owns a directory at a time (a lock file with its pid).
 */

export interface JournalOptions {
  readonly dir: string;
  /** Bytes of segment files (plus appends being written) the journal may hold. */
  readonly maxBytes: number;
  /** A segment is closed and a new one started once it reaches this size; default maxBytes/8, 16 KiB to 64 MiB. */
  readonly segmentBytes?: number;
  /** The checkpoint is written at most this long after a confirm (default 100 ms). */
  readonly checkpointDelayMs?: number;
  /** Recently appended records kept in memory for the forwarder, in record bytes (default 16 MiB). */
  readonly memoryCacheBytes?: number;
  /** The Retry-After hint carried by JournalFullError (default 5 s). */
  readonly retryAfterSeconds?: number;
  readonly observer?: JournalObserver;
  /** Problems the journal recovers from by itself (torn tail, corrupt record), for the log. */
  readonly onWarning?: (message: string, details: Readonly<Record<string, unknown>>) => void;
  /** Wall clock in epoch milliseconds (tests). */
  readonly now?: () => number;
}

/** Callbacks for metrics; each is optional. */
export interface JournalObserver {
  appended?(records: number, measures: number, bytes: number): void;
  synced?(): void;
  rejectedFull?(): void;
  /** Bytes of a closed segment that could not be read and were skipped. */
  skippedCorrupt?(bytes: number): void;
}

export interface JournalRecord {
  readonly start: Position;
  readonly end: Position;
  readonly measures: readonly Measure[];
  /** When it was appended, epoch milliseconds. */
  readonly appendedAtMs: number;
}

export interface JournalStats {
  /** Bytes of all segment files plus appends being written. */
  readonly bytes: number;
  readonly maxBytes: number;
  /** Bytes from the checkpoint to the end: not yet confirmed by the broker. */
  readonly unconfirmedBytes: number;
  readonly segments: number;
  readonly appends: number;
  readonly syncs: number;
  readonly fullRejections: number;
  /** Bytes cut from the end of the last segment when it was opened (a torn write). */
  readonly truncatedOnOpen: number;
}

/** A single append bigger than the journal can ever hold (half its maximum size). */
export class RecordTooLargeError extends RangeError {
  constructor(
    readonly recordBytes: number,
    readonly maxRecordBytes: number,
  ) {
    super(`a journal record of ${recordBytes} bytes exceeds the limit of ${maxRecordBytes} bytes; send fewer measures at once`);
    this.name = 'RecordTooLargeError';
  }
}

/** The journal cannot take appends: it is closed, or a disk write failed in a way it cannot undo. */
export class JournalUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'JournalUnavailableError';
  }
}

/** A record before the durable end of the active segment does not read back: the disk is damaged. */
export class JournalCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalCorruptError';
  }
}

interface Segment {
  readonly id: number;
  /** Bytes on disk (durable for the active segment: only fsynced data counts). */
  size: number;
  /** Where reading stops: size, or the start of a corrupt record in a closed segment. */
  readableEnd: number;
}

interface PendingAppend {
  readonly record: Buffer;
  readonly measures: readonly Measure[];
  readonly appendedAtMs: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface CachedRecord extends JournalRecord {
  readonly bytes: number;
}

const MIN_MAX_BYTES = 64 * 1024;
const MIN_SEGMENT_BYTES = 16 * 1024;
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;

async function writeAll(file: FileHandle, data: Buffer): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await file.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

export class Journal implements DurableSink {
  private pending: PendingAppend[] = [];
  private writer: Promise<void> | undefined;
  /** Bytes of appends accepted but not yet on disk. */
  private reservedBytes = 0;
  private diskBytes: number;
  private failure: Error | undefined;
  private closed = false;
  private confirmed: Position;
  private savedCheckpoint: Position | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointChain: Promise<void> = Promise.resolve();
  private readonly cache: CachedRecord[] = [];
  private cacheHead = 0;
  private cacheBytes = 0;
  private readonly waiters = new Set<() => void>();
  private appends = 0;
  private syncs = 0;
  private fullRejections = 0;
  private readonly segmentBytes: number;
  private readonly maxRecordBytes: number;
  private readonly now: () => number;

  private constructor(
    private readonly opts: JournalOptions,
    readonly id: string,
    private readonly segments: Segment[],
    private active: FileHandle,
    confirmed: Position,
    private readonly truncatedOnOpen: number,
    private readonly unlock: () => Promise<void>,
  ) {
    this.confirmed = confirmed;
    this.diskBytes = segments.reduce((sum, s) => sum + s.size, 0);
    this.segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(opts.maxBytes / 8)));
    this.maxRecordBytes = Math.floor(opts.maxBytes / 2);
    this.now = opts.now ?? Date.now;
  }

  /** Opens (or creates) the journal in opts.dir, truncating a torn record at the end. */
  static async open(opts: JournalOptions): Promise<Journal> {
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < MIN_MAX_BYTES) {
      throw new RangeError(`journal maxBytes must be an integer of at least ${MIN_MAX_BYTES}`);
    }
    const warn = opts.onWarning ?? (() => undefined);
    await fs.mkdir(opts.dir, { recursive: true });
    const unlock = await lockDirectory(opts.dir);
    try {
      await fs.rm(path.join(opts.dir, `${CHECKPOINT_FILE}.tmp`), { force: true });
      const read = await readCheckpoint(opts.dir);
      if (read.kind === 'corrupt') {
        // Replaying from the oldest segment only re-sends what was confirmed: duplicates the
        // ingest side absorbs (same key, same value), never a loss.
        warn('journal checkpoint unreadable: replaying every segment', { dir: opts.dir, why: read.why });
      }
      const checkpoint = read.kind === 'ok' ? read.checkpoint : undefined;
      const ids = (await fs.readdir(opts.dir))
        .map(segmentIdOf)
        .filter((id): id is number => id !== undefined)
        .sort((a, b) => a - b);
      const segments: Segment[] = [];
      for (const id of ids) {
        const file = path.join(opts.dir, segmentFileName(id));
        if (checkpoint && id < checkpoint.position.segment) {
          // Confirmed before the last run ended; its deletion did not happen or was not durable.
          await fs.rm(file, { force: true });
          continue;
        }
        const { size } = await fs.stat(file);
        segments.push({ id, size, readableEnd: size });
      }
      let created = false;
      if (segments.length === 0) {
        const id = checkpoint?.position.segment ?? 1;
        segments.push({ id, size: 0, readableEnd: 0 });
        created = true;
      }
      const last = segments[segments.length - 1];
      const active = await fs.open(path.join(opts.dir, segmentFileName(last.id)), 'a+');
      let truncated = 0;
      try {
        if (created) await syncDirectory(opts.dir);
        const validEnd = await Journal.validEndOf(active, last.size, (why, offset) =>
          warn('journal: cutting off a torn or corrupt record at the end of the last segment', {
            segment: last.id,
            offset,
            bytes: last.size - offset,
            why,
          }),
        );
        if (validEnd < last.size) {
          await active.truncate(validEnd);
          await active.datasync();
          truncated = last.size - validEnd;
          last.size = validEnd;
          last.readableEnd = validEnd;
        }
      } catch (err) {
        await active.close();
        throw err;
      }
      let confirmed: Position = checkpoint?.position ?? { segment: segments[0].id, offset: 0 };
      if (comparePositions(confirmed, { segment: segments[0].id, offset: 0 }) < 0) confirmed = { segment: segments[0].id, offset: 0 };
      if (comparePositions(confirmed, { segment: last.id, offset: last.size }) > 0) {
        warn('journal checkpoint lies past the end of the journal; starting from the end', { checkpoint: confirmed });
        confirmed = { segment: last.id, offset: last.size };
      }
      const journalId = checkpoint?.journalId ?? newJournalId();
      if (!checkpoint) {
        // Saved at once so the id, part of every message id, survives a crash before the first confirm.
        try {
          await writeCheckpoint(opts.dir, { journalId, position: confirmed });
        } catch (err) {
          await active.close();
          throw err;
        }
      }
      return new Journal(opts, journalId, segments, active, confirmed, truncated, unlock);
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  private static async validEndOf(file: FileHandle, size: number, onBad: (why: string, offset: number) => void): Promise<number> {
    let end = 0;
    for await (const rec of readRecords(file, 0, size)) {
      if (rec.kind !== 'record') {
        onBad(rec.why, rec.offset);
        return rec.offset;
      }
      end = rec.offset + rec.size;
    }
    return end;
  }

  /**
   * Resolves once the measures are on disk as one record. Rejects with JournalFullError when they
   * do not fit (nothing is written), RecordTooLargeError when they never could, and
   * JournalUnavailableError after close() or an unrecoverable disk failure.
   */
  append(measures: readonly Measure[]): Promise<void> {
    if (this.closed) return Promise.reject(new JournalUnavailableError('the journal is closed'));
    if (this.failure) return Promise.reject(new JournalUnavailableError(`the journal failed: ${this.failure.message}`, { cause: this.failure }));
    if (measures.length === 0) return Promise.resolve();
    const appendedAtMs = this.now();
    const record = encodeRecord(measures, appendedAtMs);
    if (record.length > this.maxRecordBytes) return Promise.reject(new RecordTooLargeError(record.length, this.maxRecordBytes));
    const used = this.diskBytes + this.reservedBytes;
    if (used + record.length > this.opts.maxBytes) {
      this.fullRejections++;
      this.opts.observer?.rejectedFull?.();
      return Promise.reject(new JournalFullError(used, this.opts.maxBytes, this.opts.retryAfterSeconds ?? 5));
    }
    this.reservedBytes += record.length;
    return new Promise<void>((resolve, reject) => {
      // The caller may reuse its array; the journal keeps its own (the measures are immutable).
      this.pending.push({ record, measures: measures.slice(), appendedAtMs, resolve, reject });
      this.startWriter();
    });
  }

  private startWriter(): void {
    if (this.writer) return;
    this.writer = this.writeLoop().finally(() => {
      this.writer = undefined;
      // Appends that arrived after the loop's last look at the queue.
      if (this.pending.length > 0) this.startWriter();
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      await this.writeBatch(batch);
    }
  }

  /** Writes and fsyncs a batch; settles every append in it. Never throws. */
  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    const bytes = batch.reduce((sum, p) => sum + p.record.length, 0);
    const fail = (err: Error): void => {
      this.reservedBytes -= bytes;
      for (const p of batch) p.reject(err);
    };
    if (this.failure) {
      fail(new JournalUnavailableError(`the journal failed: ${this.failure.message}`, { cause: this.failure }));
      return;
    }
    try {
      const last = this.segments[this.segments.length - 1];
      if (last.size >= this.segmentBytes) await this.roll();
    } catch (err) {
      fail(new JournalUnavailableError(`cannot start a new journal segment: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const segment = this.segments[this.segments.length - 1];
    const data = batch.length === 1 ? batch[0].record : Buffer.concat(batch.map((p) => p.record), bytes);
    try {
      await writeAll(this.active, data);
    } catch (err) {
      // Part of the batch may be on disk: cut back to the last durable size so the segment holds
      // only whole, acknowledged records. If even that fails, stop taking appends.
      try {
        await this.active.truncate(segment.size);
        await this.active.datasync();
      } catch (undo) {
        this.failure = undo as Error;
      }
      fail(new JournalUnavailableError(`journal write failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    try {
      await this.active.datasync();
    } catch (err) {
      // After a failed fsync the kernel may have dropped the dirty pages: what is on disk is
      // unknown and retrying the fsync would report success falsely. Never trust this file again.
      this.failure = err as Error;
      fail(new JournalUnavailableError(`journal fsync failed: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.syncs++;
    this.opts.observer?.synced?.();
    let offset = segment.size;
    let measures = 0;
    for (const p of batch) {
      const start = { segment: segment.id, offset };
      offset += p.record.length;
      measures += p.measures.length;
      this.cachePush({ start, end: { segment: segment.id, offset }, measures: p.measures, appendedAtMs: p.appendedAtMs, bytes: p.record.length });
    }
    segment.size = offset;
    segment.readableEnd = offset;
    this.diskBytes += bytes;
    this.reservedBytes -= bytes;
    this.appends += batch.length;
    this.opts.observer?.appended?.(batch.length, measures, bytes);
    for (const p of batch) p.resolve();
    this.wakeReaders();
  }

  /** Starts the next segment; the current one is complete and synced. */
  private async roll(): Promise<void> {
    const id = this.segments[this.segments.length - 1].id + 1;
    const next = await fs.open(path.join(this.opts.dir, segmentFileName(id)), 'a+');
    try {
      await syncDirectory(this.opts.dir);
    } catch (err) {
      await next.close();
      throw err;
    }
    const previous = this.active;
    this.active = next;
    this.segments.push({ id, size: 0, readableEnd: 0 });
    await previous.close();
  }

  private cachePush(rec: CachedRecord): void {
    const limit = this.opts.memoryCacheBytes ?? 16 * 1024 * 1024;
    this.cache.push(rec);
    this.cacheBytes += rec.bytes;
    while (this.cacheBytes > limit && this.cacheHead < this.cache.length) this.cacheDropFirst();
  }

  private cacheDropFirst(): void {
    this.cacheBytes -= this.cache[this.cacheHead].bytes;
    this.cacheHead++;
    // Slots before the head still reference their measures: compact once they are half the
    // array, so dropped records never pile up (amortised O(1) per record).
    if (this.cacheHead * 2 >= this.cache.length) {
      this.cache.splice(0, this.cacheHead);
      this.cacheHead = 0;
    }
  }

  /** Index in the cache of the record starting at pos, or -1. */
  private cacheIndexOf(pos: Position): number {
    let lo = this.cacheHead;
    let hi = this.cache.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePositions(this.cache[mid].start, pos);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private wakeReaders(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** The end of the last durable record. */
  get end(): Position {
    const last = this.segments[this.segments.length - 1];
    return { segment: last.id, offset: last.size };
  }

  /** Everything before this position has been confirmed (see confirm). */
  get confirmedPosition(): Position {
    return this.confirmed;
  }

  /**
   * The same place, moved past the ends of closed segments (and past deleted ones), so that
   * positions compare as "is there anything after this?".
   */
  private normalize(pos: Position): Position {
    let p = pos;
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      if (p.segment > s.id) continue;
      if (p.segment < s.id) p = { segment: s.id, offset: 0 };
      const isLast = i === this.segments.length - 1;
      if (!isLast && p.offset >= s.readableEnd) {
        p = { segment: this.segments[i + 1].id, offset: 0 };
        continue;
      }
      return p;
    }
    return p;
  }

  /**
   * Durable records from `from` (a record boundary) on, in order: at least one if there is any,
   * and no more than maxMeasures in all unless the first record alone has more.
   */
  async read(from: Position, maxMeasures: number): Promise<JournalRecord[]> {
    for (;;) {
      const pos = this.normalize(from);
      if (comparePositions(pos, this.end) >= 0) return [];
      const at = this.cacheIndexOf(pos);
      if (at >= 0) {
        const out: JournalRecord[] = [];
        let n = 0;
        for (let i = at; i < this.cache.length; i++) {
          const rec = this.cache[i];
          if (out.length > 0 && n + rec.measures.length > maxMeasures) break;
          out.push(rec);
          n += rec.measures.length;
        }
        return out;
      }
      const records = await this.readFromDisk(pos, maxMeasures);
      // Empty only when the rest of a damaged closed segment was just skipped: go on after it.
      if (records.length > 0 || comparePositions(this.normalize(from), pos) === 0) return records;
    }
  }

  private async readFromDisk(pos: Position, maxMeasures: number): Promise<JournalRecord[]> {
    const segment = this.segments.find((s) => s.id === pos.segment);
    if (!segment) throw new Error(`journal segment ${pos.segment} does not exist`);
    const isActive = segment === this.segments[this.segments.length - 1];
    const file = await fs.open(path.join(this.opts.dir, segmentFileName(segment.id)), 'r');
    const out: JournalRecord[] = [];
    try {
      let n = 0;
      for await (const rec of readRecords(file, pos.offset, segment.readableEnd)) {
        if (rec.kind !== 'record') {
          if (isActive) {
            throw new JournalCorruptError(`journal segment ${segment.id} is damaged at offset ${rec.offset} (${rec.why})`);
          }
          // A closed segment: records after the damage cannot be found (no resync marker), so
          // reading goes on with the next segment. Loud, counted, and never silent.
          const lost = segment.readableEnd - rec.offset;
          segment.readableEnd = rec.offset;
          this.opts.observer?.skippedCorrupt?.(lost);
          this.opts.onWarning?.('journal: skipping the damaged rest of a segment', { segment: segment.id, offset: rec.offset, bytes: lost, why: rec.why });
          break;
        }
        let measures: Measure[];
        try {
          measures = decodeMeasures(rec.payload);
        } catch (err) {
          throw new JournalCorruptError(`journal record at ${segment.id}:${rec.offset} does not decode: ${(err as Error).message}`);
        }
        if (out.length > 0 && n + measures.length > maxMeasures) break;
        out.push({
          start: { segment: segment.id, offset: rec.offset },
          end: { segment: segment.id, offset: rec.offset + rec.size },
          measures,
          appendedAtMs: rec.appendedAtMs,
        });
        n += measures.length;
      }
    } finally {
      await file.close();
    }
    return out;
  }

  /** Resolves once there is a durable record at or after `from`, or when the signal aborts. */
  waitForData(from: Position, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || this.closed || comparePositions(this.normalize(from), this.end) < 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /**
   * Everything before `upTo` is confirmed by the broker. The checkpoint follows within
   * checkpointDelayMs; segments wholly before it are deleted once it is on disk.
   */
  confirm(upTo: Position): void {
    if (comparePositions(upTo, this.confirmed) <= 0) return;
    this.confirmed = upTo;
    while (this.cacheHead < this.cache.length && comparePositions(this.cache[this.cacheHead].end, upTo) <= 0) this.cacheDropFirst();
    if (!this.checkpointTimer && !this.closed) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        this.saveCheckpoint().catch((err: unknown) =>
          // A checkpoint that could not be saved only means more to replay after a crash.
          this.opts.onWarning?.('journal: cannot save the checkpoint', { err }),
        );
      }, this.opts.checkpointDelayMs ?? 100);
    }
  }

  /** Writes the checkpoint now (if it moved) and deletes the segments it leaves behind. */
  saveCheckpoint(): Promise<void> {
    const run = this.checkpointChain.then(async () => {
      const pos = this.normalize(this.confirmed);
      if (this.savedCheckpoint && comparePositions(pos, this.savedCheckpoint) === 0) return;
      await writeCheckpoint(this.opts.dir, { journalId: this.id, position: pos });
      this.savedCheckpoint = pos;
      await this.deleteSegmentsBefore(pos);
    });
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  private async deleteSegmentsBefore(pos: Position): Promise<void> {
    while (this.segments.length > 1 && this.segments[0].id < pos.segment) {
      const segment = this.segments[0];
      await fs.rm(path.join(this.opts.dir, segmentFileName(segment.id)), { force: true });
      this.segments.shift();
      this.diskBytes -= segment.size;
    }
  }

  /** When the oldest record not yet confirmed was appended (epoch ms), or undefined if none. */
  async oldestUnconfirmedAppendedAt(): Promise<number | undefined> {
    const pos = this.normalize(this.confirmed);
    if (comparePositions(pos, this.end) >= 0) return undefined;
    const at = this.cacheIndexOf(pos);
    if (at >= 0) return this.cache[at].appendedAtMs;
    const file = await fs.open(path.join(this.opts.dir, segmentFileName(pos.segment)), 'r');
    try {
      return await readAppendedAt(file, pos.offset);
    } finally {
      await file.close();
    }
  }

  /** Whether appends can succeed (not closed, no unrecoverable failure); why not otherwise. */
  get unavailableReason(): string | undefined {
    if (this.closed) return 'journal closed';
    if (this.failure) return `journal failed: ${this.failure.message}`;
    return undefined;
  }

  get stats(): JournalStats {
    const c = this.normalize(this.confirmed);
    let unconfirmed = 0;
    for (const s of this.segments) {
      if (s.id < c.segment) continue;
      unconfirmed += s.id === c.segment ? s.size - c.offset : s.size;
    }
    return {
      bytes: this.diskBytes + this.reservedBytes,
      maxBytes: this.opts.maxBytes,
      unconfirmedBytes: unconfirmed,
      segments: this.segments.length,
      appends: this.appends,
      syncs: this.syncs,
      fullRejections: this.fullRejections,
      truncatedOnOpen: this.truncatedOnOpen,
    };
  }

  /** Refuses new appends, finishes the ones under way, saves the checkpoint, releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writer) await this.writer;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.wakeReaders();
    try {
      await this.saveCheckpoint();
    } finally {
      await this.active.close();
      await this.unlock();
    }
  }
}
