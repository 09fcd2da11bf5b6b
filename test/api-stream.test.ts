import { microsToSql } from '../services/shared/measure-contract';
import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';
import { revokeTokens } from './support/firebase-emulator';
import { waitFor } from './support/services';

/**
 * GET /measures/{id}/stream read by a real HTTP client as a Server-Sent Events stream: new rows
 * arrive, filters hold, Last-Event-ID resumes, a client that leaves stops the polling, and the
 * stream ends when the token expires. Deadlines below are generous bounds for a 1 s poll on a
 * busy machine, not latency assertions.
 */

interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
  readonly retry: number | undefined;
}

const DEADLINE_MS = 15_000;

/** A minimal EventSource over fetch, keeping every event and comment it has parsed. */
class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private readonly controller = new AbortController();
  private buffer = '';
  private pump: Promise<void> = Promise.resolve();

  private constructor(readonly response: Response) {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const controller = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    const client = new SseClient(res);
    client.controller.signal.addEventListener('abort', () => controller.abort());
    if (res.ok && res.body) client.pump = client.read(res.body.getReader());
    return client;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.parse(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted by close().
    }
    this.ended = true;
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | undefined;
    let retry: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') retry = Number(value);
    }
    if (id !== undefined || data.length > 0 || retry !== undefined) this.events.push({ event, id, data: data.join('\n'), retry });
  }

  /** Events that dispatch (have data), in order. */
  get messages(): SseEvent[] {
    return this.events.filter((e) => e.data !== '');
  }

  /** The id an EventSource would send back as Last-Event-ID. */
  get lastEventId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  async waitForMessages(n: number): Promise<SseEvent[]> {
    await waitFor(() => this.messages.length >= n || this.ended, `${n} events`, DEADLINE_MS, 50);
    return this.messages;
  }

  async waitForEnd(): Promise<void> {
    await waitFor(() => this.ended, 'the stream to end', DEADLINE_MS, 50);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.pump;
  }
}

let api: ApiHarness;
let scientist: TestUser;
let experiment: number;
let otherExperiment: number;
let typeIds: Map<string, number>;
const open: SseClient[] = [];
let clock = Date.now() * 1000;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const iso = (us: number) => encodeURIComponent(`${microsToSql(us).replace(' ', 'T')}Z`);

/** Microsecond timestamps after every one used so far and after now, so each is new to a stream. */
function freshMicros(): number {
  clock = Math.max(clock + 1000, (Date.now() + 1000) * 1000);
  return clock;
}

async function insert(rows: Array<{ experiment?: number; us: number; type?: string; source?: string; value: number }>): Promise<void> {
  await api.db.pool.query('INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) VALUES ?', [
    rows.map((r) => [r.experiment ?? experiment, microsToSql(r.us), typeIds.get(r.type ?? 'hertz'), r.source ?? '', r.value]),
  ]);
}

async function stream(query = '', headers: Record<string, string> = {}, token = scientist.idToken, exp = experiment): Promise<SseClient> {
  const client = await SseClient.open(`${api.baseUrl}/measures/${exp}/stream${query}`, { ...bearer(token), ...headers });
  open.push(client);
  return client;
}

async function openStreams(): Promise<number> {
  const res = await api.request('GET', '/metrics');
  return Number(/^api_live_streams_open(?:\{[^}]*\})? (\d+)$/m.exec(res.text)?.[1]);
}

/** The same unsigned emulator token, expiring `seconds` from now (the emulator accepts it). */
function shortLived(idToken: string, seconds: number): string {
  const [header, payload] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const changed = { ...claims, exp: Math.floor(Date.now() / 1000) + seconds };
  return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.`;
}

beforeAll(async () => {
  api = await startApi('api_stream');
  scientist = await api.user('SCIENTIST');
  experiment = await api.experiment('streamed');
  otherExperiment = await api.experiment('streamed-other');
  await api.associate(experiment, scientist.id);
  await api.associate(otherExperiment, scientist.id);
  const [types] = await api.db.pool.query('SELECT id, name FROM measure_types');
  typeIds = new Map((types as Array<{ id: number; name: string }>).map((t) => [t.name, t.id]));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await waitFor(async () => (await openStreams()) === 0, 'every stream to be released', DEADLINE_MS);
});
afterAll(async () => {
  await api?.close();
});

test('a measure stored after connecting arrives as an event like GET /measures returns it', async () => {
  const client = await stream();
  expect(client.response.status).toBe(200);
  expect(client.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(client.response.headers.get('cache-control')).toBe('no-store');
  expect(client.response.headers.get('x-accel-buffering')).toBe('no');
  // The first block only says where the stream starts and how long to wait before reconnecting.
  await waitFor(() => client.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  expect(client.events[0]).toEqual({ event: 'message', id: expect.stringMatching(/^[A-Za-z0-9_-]+$/), data: '', retry: 2000 });

  const us = freshMicros();
  // A double the text protocol would print one unit in the last place off.
  await insert([{ us, type: 'watt', source: 'sensor-1', value: 946791.3457310129 }]);
  const [event] = await client.waitForMessages(1);
  const page = await api.request('GET', `/measures/${experiment}?from=${iso(us)}&limit=1`, { headers: bearer(scientist.idToken) });
  expect(JSON.parse(event.data)).toEqual(page.json[0]);
  expect(JSON.parse(event.data)).toEqual({
    experiment: 'streamed',
    measure_type: 'watt',
    timestamp: `${microsToSql(us).replace(' ', 'T')}Z`,
    value: 946791.3457310129,
    source: 'sensor-1',
  });
  expect(event.event).toBe('message');
  expect(event.id).toMatch(/^[A-Za-z0-9_-]+$/);
});

test('rows come in key order; measures stamped before the stream’s position are not streamed', async () => {
  // Rows of earlier tests are stamped up to a second ahead: start this stream after all of them.
  const base = freshMicros();
  freshMicros();
  const client = await stream(`?since=${iso(base)}`);
  await waitFor(() => client.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  // One statement: the late row and the new ones become visible to the same poll.
  await insert([
    { us: Date.now() * 1000 - 3600e6, value: -1 },
    { us: base + 2, type: 'hertz', value: 3 },
    { us: base, type: 'watt', value: 2 },
    { us: base, type: 'hertz', source: 'b', value: 1.5 },
    { us: base, type: 'hertz', value: 1 },
  ]);
  const got = await client.waitForMessages(4);
  expect(got.map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([1, 1.5, 2, 3]);
});

test('measure and source filters; another experiment’s rows never appear', async () => {
  const client = await stream('?measure=watt&source=a');
  await waitFor(() => client.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  const us = freshMicros();
  await insert([
    { us, type: 'watt', source: 'b', value: 1 },
    { us, type: 'hertz', source: 'a', value: 2 },
    { us, type: 'watt', source: 'a', value: 3, experiment: otherExperiment },
    { us: us + 1, type: 'watt', source: 'a', value: 4 },
  ]);
  await client.waitForMessages(1);
  const later = freshMicros();
  await insert([
    { us: later, type: 'watt', source: '', value: 5 },
    { us: later, type: 'watt', source: 'a', value: 6 },
  ]);
  const got = await client.waitForMessages(2);
  expect(got.map((e) => JSON.parse(e.data) as Record<string, unknown>)).toEqual([
    expect.objectContaining({ experiment: 'streamed', measure_type: 'watt', source: 'a', value: 4 }),
    expect.objectContaining({ experiment: 'streamed', measure_type: 'watt', source: 'a', value: 6 }),
  ]);
});

test('Last-Event-ID resumes right after the last event received, including rows stored meanwhile', async () => {
  const first = await stream();
  await waitFor(() => first.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  const us = freshMicros();
  await insert([1, 2, 3].map((i) => ({ us: us + i, value: i })));
  const got = await first.waitForMessages(3);
  await first.close();
  // Rows stored while no one listens.
  await insert([4, 5].map((i) => ({ us: us + i, value: i })));

  const resumed = await stream('', { 'last-event-id': got[1].id! });
  const again = await resumed.waitForMessages(3);
  expect(again.map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([3, 4, 5]);
  expect(again.map((e) => e.id)[0]).toBe(got[2].id);
  // Last-Event-ID wins over since.
  const both = await stream(`?since=${iso(us + 5)}`, { 'last-event-id': got[2].id! });
  expect((await both.waitForMessages(2)).map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([4, 5]);
});

test('the opening id resumes a stream that never received a measure; since starts at an instant', async () => {
  const quiet = await stream('?source=quiet');
  await waitFor(() => quiet.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  const startId = quiet.lastEventId!;
  await quiet.close();
  const us = freshMicros();
  await insert([{ us, source: 'quiet', value: 7 }]);
  const resumed = await stream('?source=quiet', { 'last-event-id': startId });
  expect((await resumed.waitForMessages(1)).map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([7]);

  // since is inclusive and may reach back into stored history, which comes first, in order.
  const history = await stream(`?source=quiet&since=${iso(us)}`);
  expect((await history.waitForMessages(1)).map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([7]);
});

test('a client that disconnects stops the polling and gives its slot back', async () => {
  const execute = jest.spyOn(api.db.pool, 'execute');
  const polls = () => (execute.mock.calls as unknown[][]).filter(([sql]) => typeof sql === 'string' && sql.includes('FROM measures m')).length;
  try {
    const client = await stream();
    await waitFor(() => polls() >= 2, 'the stream to poll', DEADLINE_MS, 50);
    expect(await openStreams()).toBe(1);
    await client.close();
    await waitFor(async () => (await openStreams()) === 0, 'the stream to be released', DEADLINE_MS);
    const after = polls();
    // Three poll intervals of silence.
    await new Promise((r) => setTimeout(r, 3500));
    expect(polls()).toBe(after);
  } finally {
    execute.mockRestore();
  }
});

test('at most 5 streams per user: the sixth gets 429, others are unaffected, a closed one frees its slot', async () => {
  const five = await Promise.all([1, 2, 3, 4, 5].map(() => stream()));
  expect(five.map((c) => c.response.status)).toEqual([200, 200, 200, 200, 200]);
  const sixth = await api.request('GET', `/measures/${experiment}/stream`, { headers: bearer(scientist.idToken) });
  expect(sixth.status).toBe(429);
  expect(sixth.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);

  const colleague = await api.user('SCIENTIST');
  await api.associate(experiment, colleague.id);
  expect((await stream('', {}, colleague.idToken)).response.status).toBe(200);

  await five[0].close();
  await waitFor(async () => (await stream()).response.status === 200, 'a slot to free up', DEADLINE_MS, 200);
});

test('the stream ends with an end event when the token expires', async () => {
  const token = shortLived(scientist.idToken, 4);
  const client = await stream('', {}, token);
  expect(client.response.status).toBe(200);
  const us = freshMicros();
  await insert([{ us, value: 11 }]);
  await client.waitForEnd();
  const end = client.events[client.events.length - 1];
  expect(end).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'token_expired' }) });
  expect(client.messages.filter((e) => e.event === 'message').map((e) => (JSON.parse(e.data) as { value: number }).value)).toEqual([11]);
  // Reconnecting with the expired token is refused: a fresh one is needed.
  const again = await api.request('GET', `/measures/${experiment}/stream`, { headers: { ...bearer(token), 'last-event-id': client.lastEventId! } });
  expect(again.status).toBe(401);
});

test('a scientist removed from the experiment receives nothing stored after the removal: the stream ends', async () => {
  const removed = await api.user('SCIENTIST');
  await api.associate(experiment, removed.id);
  const client = await stream('', {}, removed.idToken);
  expect(client.response.status).toBe(200);
  await waitFor(() => client.events.length > 0, 'the opening block', DEADLINE_MS, 50);
  await api.db.pool.query('DELETE FROM user_experiments WHERE experiment_id = ? AND user_id = ?', [experiment, removed.id]);
  // The idle re-check (15 s by default) is far away: the check made with the rows in hand ends it.
  await insert([{ us: freshMicros(), value: 12 }]);
  await client.waitForEnd();
  expect(client.events[client.events.length - 1]).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'access_revoked' }) });
  expect(client.messages.filter((e) => e.event === 'message' && e.data !== '')).toEqual([]);
});

test('revoking the token in Firebase ends the stream at the next re-check, long before the token expires', async () => {
  // An API of its own with a 1 s re-check, so the test need not wait the default 15 s.
  const quick = await startApi('api_stream_revoke', { API_STREAM_ACCESS_RECHECK_MS: '1000' });
  try {
    const who = await quick.user('SCIENTIST');
    const exp = await quick.experiment('revoked-stream');
    await quick.associate(exp, who.id);
    const client = await SseClient.open(`${quick.baseUrl}/measures/${exp}/stream`, bearer(who.idToken));
    open.push(client);
    expect(client.response.status).toBe(200);
    await waitFor(() => client.events.length > 0, 'the opening block', DEADLINE_MS, 50);
    await revokeTokens(who.uid);
    await client.waitForEnd();
    expect(client.events[client.events.length - 1]).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'token_revoked' }) });
    // And the same token cannot open a new one.
    expect((await quick.request('GET', `/measures/${exp}/stream`, { headers: bearer(who.idToken) })).status).toBe(401);
  } finally {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await quick.close();
  }
});

test('opening a stream is audited; refusals are problem+json and audited too', async () => {
  const client = await stream('?measure=watt');
  const [events] = await api.db.pool.query('SELECT actor_id, action, target_id, outcome, details FROM audit_events WHERE request_id = ?', [
    client.response.headers.get('x-request-id'),
  ]);
  const list = events as Array<Record<string, string>>;
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ actor_id: scientist.id, action: 'measures.stream', target_id: String(experiment), outcome: 'success' });
  expect(JSON.parse(list[0].details)).toMatchObject({ filter: { measure: 'watt' }, resumed: false });

  const admin = await api.user('ADMIN');
  const stranger = await api.user('SCIENTIST');
  expect((await api.request('GET', `/measures/${experiment}/stream`)).status).toBe(401);
  expect((await api.request('GET', `/measures/${experiment}/stream`, { headers: bearer(admin.idToken) })).status).toBe(403);
  const hidden = await api.request('GET', `/measures/${experiment}/stream`, { headers: bearer(stranger.idToken) });
  expect(hidden.status).toBe(404);
  expect(hidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const [denials] = await api.db.pool.query('SELECT action, outcome FROM audit_events WHERE request_id = ?', [hidden.headers.get('x-request-id')]);
  expect(denials).toEqual([{ action: 'measures.stream', outcome: 'denied' }]);
});

test.each([
  ['a Last-Event-ID that is no event id', '', { 'last-event-id': 'bm90LWEtY3Vyc29y' }, 'Last-Event-ID'],
  ['a bad since', '?since=yesterday', {}, 'since'],
  ['an unknown measure type', '?measure=furlong', {}, 'measure'],
  ['an unknown parameter', '?cursor=abc', {}, 'cursor'],
])('%s → 400 naming the field', async (_name, query, headers, field) => {
  const res = await api.request('GET', `/measures/${experiment}/stream${query}`, { headers: { ...bearer(scientist.idToken), ...headers } });
  expect(res.status).toBe(400);
  expect((res.json.errors as Array<{ field: string }>).map((e) => e.field)).toEqual([field]);
  expect(await openStreams()).toBe(0);
});

test('the OpenAPI document describes the stream and its semantics', async () => {
  const doc = (await api.request('GET', '/openapi.json')).json as {
    paths: Record<string, { get: { operationId: string; description: string; responses: Record<string, { content: object } | undefined> } }>;
  };
  const op = doc.paths['/measures/{experiment_id}/stream'].get;
  expect(op.operationId).toBe('measures.stream');
  expect(Object.keys(op.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  expect(op.description).toMatch(/Last-Event-ID/);
  expect(op.description).toMatch(/late-arriving/);
  expect(op.description).toMatch(/token_expired/);
  expect(op.responses['429']).toBeDefined();
});
