import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Measure } from '../../services/shared/measure-contract';
import { JournalFullError } from './durable-sink';
import { Journal, JournalUnavailableError, RecordTooLargeError } from './journal';
import type { JournalOptions, JournalRecord, Position } from './journal';
import { JournalLockedError } from './journal-files';

let dir: string;
const open: Journal[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-journal-'));
});

afterEach(async () => {
  for (const j of open.splice(0)) await j.close().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function openJournal(opts: Partial<JournalOptions> = {}): Promise<Journal> {
  const j = await Journal.open({ dir, maxBytes: 1 << 20, ...opts });
  open.push(j);
  return j;
}

async function closeJournal(j: Journal): Promise<void> {
  open.splice(open.indexOf(j), 1);
  await j.close();
}

const m = (value: number, source = 's'): Measure => ({
  experiment: 'exp',
  measure: 'hertz',
  value,
  timestampUs: 1_700_000_000_000_000 + value,
  source,
});

async function readAll(j: Journal, from: Position = j.confirmedPosition): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  let pos = from;
  for (;;) {
    const batch = await j.read(pos, 10_000);
    if (batch.length === 0) return out;
    out.push(...batch);
    pos = batch[batch.length - 1].end;
  }
}

const values = (records: readonly JournalRecord[]): number[][] => records.map((r) => r.measures.map((x) => x.value));

const segmentFiles = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

describe('Journal', () => {
  it('reads back what was appended, in order, also after reopening', async () => {
    const j = await openJournal();
    await j.append([m(1), m(2)]);
    await j.append([m(3)]);
    await j.append([]);
    expect(values(await readAll(j))).toEqual([[1, 2], [3]]);
    const id = j.id;
    await closeJournal(j);

    const again = await openJournal();
    expect(again.id).toBe(id);
    const records = await readAll(again);
    expect(values(records)).toEqual([[1, 2], [3]]);
    expect(records[0].measures[0]).toEqual(m(1));
    expect(records[1].start).toEqual(records[0].end);
  });

  it('shares one fsync among appends that arrive while a write is under way (group commit)', async () => {
    const j = await openJournal();
    await Promise.all(Array.from({ length: 200 }, (_, i) => j.append([m(i)])));
    const { appends, syncs } = j.stats;
    expect(appends).toBe(200);
    expect(syncs).toBeLessThan(20);
    expect((await readAll(j)).map((r) => r.measures[0].value)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('cuts off a torn record at the end on open and goes on appending after the good ones', async () => {
    const j = await openJournal();
    await j.append([m(1)]);
    await j.append([m(2)]);
    await closeJournal(j);
    const [file] = segmentFiles();
    const goodSize = fs.statSync(path.join(dir, file)).size;
    // A crash mid-write: a header announcing 500 bytes, followed by only a few of them.
    const torn = Buffer.alloc(30);
    torn.writeUInt32LE(500, 0);
    fs.appendFileSync(path.join(dir, file), torn);

    const warnings: string[] = [];
    const again = await openJournal({ onWarning: (msg) => warnings.push(msg) });
    expect(again.stats.truncatedOnOpen).toBe(30);
    expect(fs.statSync(path.join(dir, file)).size).toBe(goodSize);
    expect(warnings).toEqual([expect.stringContaining('torn or corrupt record')]);
    await again.append([m(3)]);
    expect(values(await readAll(again))).toEqual([[1], [2], [3]]);
  });

  it('detects a damaged last record by its CRC and truncates it', async () => {
    const j = await openJournal();
    await j.append([m(1)]);
    await j.append([m(2)]);
    const [, second] = await readAll(j);
    await closeJournal(j);
    const file = path.join(dir, segmentFiles()[0]);
    const bytes = fs.readFileSync(file);
    // Flip a bit in the payload of the second record: its length still fits, its CRC does not.
    bytes[second.start.offset + 20] ^= 0x01;
    fs.writeFileSync(file, bytes);

    const again = await openJournal();
    expect(again.stats.truncatedOnOpen).toBe(second.end.offset - second.start.offset);
    expect(values(await readAll(again))).toEqual([[1]]);
  });

  it('refuses an append that does not fit with JournalFullError and keeps everything accepted', async () => {
    const j = await openJournal({ maxBytes: 64 * 1024, retryAfterSeconds: 7 });
    const accepted: number[] = [];
    let full: unknown;
    for (let i = 0; i < 10_000 && full === undefined; i++) {
      try {
        await j.append(Array.from({ length: 10 }, (_, k) => m(i * 10 + k)));
        accepted.push(i);
      } catch (err) {
        full = err;
      }
    }
    expect(full).toBeInstanceOf(JournalFullError);
    const err = full as JournalFullError;
    expect(err.maxBytes).toBe(64 * 1024);
    expect(err.retryAfterSeconds).toBe(7);
    expect(j.stats.fullRejections).toBe(1);
    expect(j.stats.bytes).toBeLessThanOrEqual(64 * 1024);
    const records = await readAll(j);
    expect(records.length).toBe(accepted.length);

    // Once the broker has confirmed it all and the checkpoint is saved, there is room again.
    j.confirm(records[records.length - 1].end);
    await j.saveCheckpoint();
    await j.append([m(-1)]);
    expect(values(await readAll(j))).toEqual([[-1]]);
  });

  it('refuses a single append bigger than half the journal with RecordTooLargeError', async () => {
    const j = await openJournal({ maxBytes: 64 * 1024 });
    await expect(j.append(Array.from({ length: 1000 }, (_, i) => m(i)))).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(j.stats.bytes).toBe(0);
  });

  it('keeps the checkpoint across a restart and replays only what was not confirmed', async () => {
    const j = await openJournal();
    for (let i = 1; i <= 4; i++) await j.append([m(i)]);
    const records = await readAll(j);
    j.confirm(records[1].end);
    await j.saveCheckpoint();
    // Confirmed but not yet saved when the process dies: replayed (at least once).
    j.confirm(records[2].end);
    const checkpoint = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as Record<string, unknown>;
    expect(checkpoint).toMatchObject({ version: 1, journalId: j.id, segment: records[1].end.segment, offset: records[1].end.offset });

    // What a crash right now leaves on disk: the files as they are, the lock of a dead process.
    const crashed = fs.mkdtempSync(path.join(os.tmpdir(), 'mymonit-journal-crashed-'));
    try {
      fs.cpSync(dir, crashed, { recursive: true });
      fs.writeFileSync(path.join(crashed, 'journal.lock'), '999999999\n');
      const again = await Journal.open({ dir: crashed, maxBytes: 1 << 20 });
      try {
        expect(again.id).toBe(j.id);
        expect(again.confirmedPosition).toEqual(records[1].end);
        expect(values(await readAll(again))).toEqual([[3], [4]]);
      } finally {
        await again.close();
      }
    } finally {
      fs.rmSync(crashed, { recursive: true, force: true });
    }
  });

  it('deletes segments once the checkpoint is past them, and never the one being written', async () => {
    const j = await openJournal({ maxBytes: 1 << 20, segmentBytes: 16 * 1024 });
    for (let i = 0; i < 300; i++) await j.append(Array.from({ length: 5 }, (_, k) => m(i * 5 + k)));
    const segmentsBefore = segmentFiles().length;
    expect(segmentsBefore).toBeGreaterThan(3);
    expect(j.stats.segments).toBe(segmentsBefore);

    const records = await readAll(j);
    expect(records.flatMap((r) => r.measures.map((x) => x.value))).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    j.confirm(records[149].end);
    await j.saveCheckpoint();
    const middle = segmentFiles().length;
    expect(middle).toBeLessThan(segmentsBefore);
    expect(middle).toBeGreaterThan(1);
    expect(values(await readAll(j))[0]).toEqual(records[150].measures.map((x) => x.value));

    j.confirm(j.end);
    await j.saveCheckpoint();
    expect(segmentFiles()).toHaveLength(1);
    expect(j.stats.unconfirmedBytes).toBe(0);
    expect(j.stats.bytes).toBe(fs.statSync(path.join(dir, segmentFiles()[0])).size);
  });

  it('reads across segments from disk when the records are no longer in memory', async () => {
    const j = await openJournal({ segmentBytes: 16 * 1024, memoryCacheBytes: 1 });
    for (let i = 0; i < 100; i++) await j.append(Array.from({ length: 10 }, (_, k) => m(i * 10 + k)));
    const records = await readAll(j);
    expect(records.flatMap((r) => r.measures.map((x) => x.value))).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(new Set(records.map((r) => r.start.segment)).size).toBeGreaterThan(1);
    // maxMeasures bounds a read, but a read returns at least one record.
    expect(await j.read(j.confirmedPosition, 25)).toHaveLength(2);
    expect(await j.read(j.confirmedPosition, 1)).toHaveLength(1);
  });

  it('skips the damaged rest of a closed segment, counts it, and goes on with the next one', async () => {
    const skipped: number[] = [];
    const j = await openJournal({ segmentBytes: 16 * 1024, memoryCacheBytes: 1, observer: { skippedCorrupt: (b) => skipped.push(b) } });
    for (let i = 0; i < 100; i++) await j.append(Array.from({ length: 10 }, (_, k) => m(i * 10 + k)));
    const records = await readAll(j);
    const first = records[0].start.segment;
    const inFirst = records.filter((r) => r.start.segment === first);
    const damaged = inFirst[2];
    const file = path.join(dir, segmentFiles()[0]);
    const bytes = fs.readFileSync(file);
    bytes[damaged.start.offset + 30] ^= 0xff;
    fs.writeFileSync(file, bytes);

    const after = await readAll(j);
    expect(after.slice(0, 2)).toEqual(inFirst.slice(0, 2));
    expect(after[2].start.segment).toBe(first + 1);
    expect(after.length).toBe(records.length - (inFirst.length - 2));
    expect(skipped).toEqual([fs.statSync(file).size - damaged.start.offset]);
  });

  it('wakes a waiting reader when a record becomes durable', async () => {
    const j = await openJournal();
    const end = j.end;
    let woken = false;
    const waiting = j.waitForData(end).then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    await j.append([m(1)]);
    await waiting;
    expect(values(await j.read(end, 10))).toEqual([[1]]);
    const aborted = new AbortController();
    const cancelled = j.waitForData(j.end, aborted.signal);
    aborted.abort();
    await cancelled;
  });

  it('knows when the oldest unconfirmed record was appended', async () => {
    let now = 1_000;
    const j = await openJournal({ now: () => now });
    expect(await j.oldestUnconfirmedAppendedAt()).toBeUndefined();
    await j.append([m(1)]);
    now = 2_000;
    await j.append([m(2)]);
    expect(await j.oldestUnconfirmedAppendedAt()).toBe(1_000);
    const [first] = await j.read(j.confirmedPosition, 1);
    j.confirm(first.end);
    expect(await j.oldestUnconfirmedAppendedAt()).toBe(2_000);
    await closeJournal(j);
    const again = await openJournal();
    expect(await again.oldestUnconfirmedAppendedAt()).toBe(2_000);
  });

  it('refuses a second owner of the directory, and appends after close', async () => {
    const j = await openJournal();
    await expect(Journal.open({ dir, maxBytes: 1 << 20 })).rejects.toBeInstanceOf(JournalLockedError);
    await closeJournal(j);
    await expect(j.append([m(1)])).rejects.toBeInstanceOf(JournalUnavailableError);
    expect(j.unavailableReason).toBe('journal closed');
  });

  it('takes over the lock of a process that no longer runs', async () => {
    fs.writeFileSync(path.join(dir, 'journal.lock'), '999999999\n');
    const j = await openJournal();
    await j.append([m(1)]);
    expect(fs.readFileSync(path.join(dir, 'journal.lock'), 'utf8').trim()).toBe(String(process.pid));
  });

  it('replays everything, with a warning, when the checkpoint file is unreadable', async () => {
    const j = await openJournal();
    await j.append([m(1)]);
    j.confirm(j.end);
    await closeJournal(j);
    fs.writeFileSync(path.join(dir, 'checkpoint.json'), '{"version":1,"jour');
    const warnings: string[] = [];
    const again = await openJournal({ onWarning: (msg) => warnings.push(msg) });
    expect(values(await readAll(again))).toEqual([[1]]);
    expect(warnings).toEqual(['journal checkpoint unreadable: replaying every segment']);
  });
});
