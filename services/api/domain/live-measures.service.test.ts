import type { MeasureQuery, MeasureRecord, NewAuditEvent } from '../../../db/src/repositories/records';
import { ServiceUnavailableError, TooManyRequestsError, UnauthorizedError, ValidationError } from '../../shared/errors';
import type { Actor } from './actor';
import type { Clock } from './clock';
import { DEFAULT_LIVE_STREAM_SETTINGS, keyBefore, LiveMeasureService } from './live-measures.service';
import type { LiveEvent, LiveStreamSettings } from './live-measures.service';
import { MeasureTypeIds } from './measure-type-ids';
import type { Database } from './ports';

/** Virtual time: sleeping moves the clock instead of waiting. */
class ManualClock implements Clock {
  t = Date.UTC(2024, 0, 1);
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (!signal.aborted) this.t += ms;
    return Promise.resolve();
  }
}

function row(ts: string, source = '', value = 1): MeasureRecord {
  return { ts, measureTypeId: 1, source, measureTypeName: 'hertz', experimentName: 'e', value };
}

function after(a: MeasureRecord, k: { ts: string; measureTypeId: number; source: string }): boolean {
  return a.ts > k.ts || (a.ts === k.ts && (a.measureTypeId > k.measureTypeId || (a.measureTypeId === k.measureTypeId && a.source > k.source)));
}

/** A database holding `rows` of one experiment, with hooks to change them as time passes. */
function fakeDb(rows: MeasureRecord[], opts: { associated?: () => boolean } = {}) {
  const audits: NewAuditEvent[] = [];
  const polls: MeasureQuery[] = [];
  const db = {
    stores: {
      measureTypes: { findByName: (n: string) => Promise.resolve(n === 'hertz' ? { id: 1, name: 'hertz', symbol: 'Hz', quantity: 'f' } : undefined) },
      audit: { insert: (e: NewAuditEvent) => Promise.resolve(void audits.push(e)) },
      associations: { exists: () => Promise.resolve(opts.associated?.() ?? true) },
      measures: {
        page: (q: MeasureQuery) => {
          polls.push(q);
          return Promise.resolve(rows.filter((r) => !q.after || after(r, q.after)).slice(0, q.limit));
        },
      },
    },
  } as unknown as Database;
  return { db, audits, polls };
}

const meta = { requestId: 'r1', ip: '127.0.0.1' };

function actor(clock: ManualClock, id = 'S1', ttlMs = 3_600_000): Actor {
  return { id, uid: `uid-${id}`, role: 'SCIENTIST', tokenExpiresAt: clock.now() + ttlMs };
}

async function take(it: AsyncIterator<LiveEvent>, n: number): Promise<LiveEvent[]> {
  const out: LiveEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function service(db: Database, clock: ManualClock, settings: Partial<LiveStreamSettings> = {}): LiveMeasureService {
  return new LiveMeasureService(db, new MeasureTypeIds(db), clock, { ...DEFAULT_LIVE_STREAM_SETTINGS, ...settings });
}

describe('LiveMeasureService', () => {
  it('starts now, audits the opening, and sends rows after the last key, polling every pollMs', async () => {
    const clock = new ManualClock();
    const rows = [row('2024-01-01 00:00:00.000000'), row('2024-01-01 00:00:00.500000')];
    const { db, audits, polls } = fakeDb(rows);
    const it = await service(db, clock).open(actor(clock), meta, { experimentId: 7 }, undefined, new AbortController().signal);
    expect(audits).toEqual([expect.objectContaining({ action: 'measures.stream', targetId: '7', actorId: 'S1' })]);
    const [start, first] = await take(it, 2);
    expect(start).toEqual({ kind: 'start', after: keyBefore('2024-01-01 00:00:00.000000') });
    expect(first).toEqual({ kind: 'measures', rows });
    rows.push(row('2024-01-01 00:00:03.000000'));
    const [next] = await take(it, 1);
    expect(next).toEqual({ kind: 'measures', rows: [rows[2]] });
    expect(polls.at(-1)).toMatchObject({ experimentId: 7, after: { ts: '2024-01-01 00:00:00.500000', measureTypeId: 1, source: '' }, limit: 1000 });
    expect(clock.sleeps.every((ms) => ms === 1000)).toBe(true);
    await it.return?.();
  });

  it('catches up in full batches without pausing', async () => {
    const clock = new ManualClock();
    const rows = Array.from({ length: 25 }, (_, i) => row(`2024-01-01 00:00:${String(10 + i).padStart(2, '0')}.000000`));
    const { db } = fakeDb(rows);
    const it = await service(db, clock, { batchSize: 10 }).open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    const events = await take(it, 4);
    expect(events.slice(1).map((e) => (e.kind === 'measures' ? e.rows.length : e.kind))).toEqual([10, 10, 5]);
    expect(clock.sleeps).toEqual([]);
    await it.return?.();
  });

  it('sends a heartbeat after heartbeatMs without events', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    const it = await service(db, clock).open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    const start = clock.now();
    const [, beat] = await take(it, 2);
    expect(beat).toEqual({ kind: 'heartbeat' });
    expect(clock.now() - start).toBe(15_000);
    await take(it, 1);
    expect(clock.now() - start).toBe(30_000);
    await it.return?.();
  });

  it('ends with token_expired at the token’s expiry, not a poll interval later', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    const it = await service(db, clock).open(actor(clock, 'S1', 2_500), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    const start = clock.now();
    const events = await take(it, 10);
    expect(events.map((e) => e.kind)).toEqual(['start', 'end']);
    expect(events[1]).toEqual({ kind: 'end', reason: 'token_expired' });
    expect(clock.now() - start).toBe(2_500);
    expect((await it.next()).done).toBe(true);
  });

  it('ends with access_revoked once the association is gone', async () => {
    const clock = new ManualClock();
    let associated = true;
    const { db } = fakeDb([], { associated: () => associated });
    const it = await service(db, clock).open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    await take(it, 2); // start, heartbeat (the first access re-check passed)
    associated = false;
    const events = await take(it, 10);
    expect(events).toEqual([{ kind: 'end', reason: 'access_revoked' }]);
  });

  it('sends no row stored after the association is gone, however long the re-check interval', async () => {
    const clock = new ManualClock();
    let associated = true;
    const rows: MeasureRecord[] = [];
    const { db } = fakeDb(rows, { associated: () => associated });
    const it = await service(db, clock, { accessRecheckMs: 3_600_000 }).open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    await take(it, 1); // start
    associated = false;
    rows.push(row('2024-01-01 00:00:01.000000'));
    const events = await take(it, 10);
    expect(events).toEqual([{ kind: 'end', reason: 'access_revoked' }]);
  });

  it('authenticates the caller again every accessRecheckMs: a revoked token ends the stream with token_revoked', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    let revoked = false;
    let calls = 0;
    const who = actor(clock);
    const reauthenticate = () => {
      calls++;
      return revoked ? Promise.reject(new UnauthorizedError('token revoked')) : Promise.resolve(who);
    };
    const it = await service(db, clock).open(who, meta, { experimentId: 1 }, undefined, new AbortController().signal, reauthenticate);
    const start = clock.now();
    await take(it, 2); // start, heartbeat at 15 s (the first re-check passed)
    expect(calls).toBe(1);
    revoked = true;
    expect(await take(it, 10)).toEqual([{ kind: 'end', reason: 'token_revoked' }]);
    expect(clock.now() - start).toBe(30_000);
  });

  it('sends nothing while the caller cannot be authenticated again, and catches up once it can', async () => {
    const clock = new ManualClock();
    const rows: MeasureRecord[] = [];
    const { db } = fakeDb(rows);
    const who = actor(clock);
    let attempts = 0;
    // A row arrives just before the first re-check, and Firebase is unreachable for three re-checks.
    const reauthenticate = () => {
      if (attempts++ === 0) rows.push(row('2024-01-01 00:00:00.500000'));
      return attempts <= 3 ? Promise.reject(new ServiceUnavailableError('Firebase unreachable')) : Promise.resolve(who);
    };
    const it = await service(db, clock, { accessRecheckMs: 1_000, heartbeatMs: 60_000 }).open(who, meta, { experimentId: 1 }, undefined, new AbortController().signal, reauthenticate);
    const start = clock.now();
    await take(it, 1); // start
    expect(await take(it, 1)).toEqual([{ kind: 'measures', rows }]);
    expect(attempts).toBe(4);
    expect(clock.now() - start).toBe(4_000);
  });

  it('a caller whose role changed is no longer a reader: access_revoked', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    const who = actor(clock);
    const reauthenticate = () => Promise.resolve({ ...who, role: 'ADMIN' as const });
    const it = await service(db, clock).open(who, meta, { experimentId: 1 }, undefined, new AbortController().signal, reauthenticate);
    expect(await take(it, 10)).toEqual([{ kind: 'start', after: expect.anything() }, { kind: 'end', reason: 'access_revoked' }]);
  });

  it('stops at once, without an event, when the client goes away', async () => {
    const clock = new ManualClock();
    const { db, polls } = fakeDb([]);
    const client = new AbortController();
    const it = await service(db, clock).open(actor(clock), meta, { experimentId: 1 }, undefined, client.signal);
    await take(it, 1);
    const next = it.next();
    client.abort();
    await next;
    const before = polls.length;
    expect((await it.next()).done).toBe(true);
    expect(polls.length).toBe(before);
  });

  it('close() ends every stream with reason shutdown and refuses new ones', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    const live = service(db, clock);
    const it = await live.open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal);
    await take(it, 1);
    live.close();
    expect(await take(it, 5)).toEqual([{ kind: 'end', reason: 'shutdown' }]);
    expect(live.openStreams).toBe(0);
    await expect(live.open(actor(clock), meta, { experimentId: 1 }, undefined, new AbortController().signal)).rejects.toMatchObject({ status: 503 });
  });

  it('caps streams per user and in total; a slot comes back however the stream ends, even unstarted', async () => {
    const clock = new ManualClock();
    const { db } = fakeDb([]);
    const live = service(db, clock, { maxPerUser: 2, maxTotal: 3 });
    const signal = new AbortController().signal;
    const a = await live.open(actor(clock, 'A'), meta, { experimentId: 1 }, undefined, signal);
    const a2 = await live.open(actor(clock, 'A'), meta, { experimentId: 1 }, undefined, signal);
    await expect(live.open(actor(clock, 'A'), meta, { experimentId: 1 }, undefined, signal)).rejects.toBeInstanceOf(TooManyRequestsError);
    await live.open(actor(clock, 'B'), meta, { experimentId: 1 }, undefined, signal);
    await expect(live.open(actor(clock, 'C'), meta, { experimentId: 1 }, undefined, signal)).rejects.toThrow(/too many live streams/);
    expect(live.openStreams).toBe(3);
    // Never read from (a HEAD request): closing it still frees the slot, once.
    await a.return?.();
    await a.return?.();
    expect(live.openStreams).toBe(2);
    await live.open(actor(clock, 'A'), meta, { experimentId: 1 }, undefined, signal);
    await take(a2, 1);
    await a2.return?.();
    expect(live.openStreams).toBe(2);
  });

  it('refuses an unknown measure type without taking a slot', async () => {
    const clock = new ManualClock();
    const { db, audits } = fakeDb([]);
    const live = service(db, clock);
    await expect(live.open(actor(clock), meta, { experimentId: 1, measure: 'furlong' }, undefined, new AbortController().signal)).rejects.toBeInstanceOf(ValidationError);
    expect(live.openStreams).toBe(0);
    expect(audits).toEqual([]);
  });
});
