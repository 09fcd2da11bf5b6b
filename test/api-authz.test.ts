import { randomBytes } from 'node:crypto';
import { disable, expiredCopy, newIdentity, revokeTokens } from './support/firebase-emulator';
import { startApi } from './support/api-harness';
import type { ApiHarness, ApiResponse, TestUser } from './support/api-harness';

/**
 * Every route × every kind of caller. Callers without a valid mapped identity get 401 on every
 * protected route; known users get 403 for what their role does not allow, and a scientist gets
 * 404 for an experiment they are not associated with. Denials are audited.
 */

type Caller = 'none' | 'malformed' | 'garbage' | 'expired' | 'revoked' | 'disabled' | 'unknown_uid' | 'admin' | 'associated' | 'other';
const UNAUTHENTICATED: Caller[] = ['none', 'malformed', 'garbage', 'expired', 'revoked', 'disabled', 'unknown_uid'];

let api: ApiHarness;
let admin: TestUser;
let associated: TestUser;
let other: TestUser;
let experiment: number;
let otherExperiment: number;
const headersOf: Record<Caller, Record<string, string>> = {} as Record<Caller, Record<string, string>>;

const unique = () => randomBytes(4).toString('hex');

interface RouteCase {
  readonly name: string;
  readonly method: string;
  path(): string | Promise<string>;
  body?(): unknown;
  /** Expected status for admin, associated scientist, other scientist. */
  readonly expect: { admin: number; associated: number; other: number };
}

async function freshScientist(): Promise<string> {
  const id = `V${unique()}`;
  await api.db.pool.query("INSERT INTO users (id, name, username, email, role) VALUES (?, 'Victim', ?, ?, 'SCIENTIST')", [
    id,
    `uid-${id}`,
    `${id}@test.mymonit`,
  ]);
  return id;
}

const routes: RouteCase[] = [
  { name: 'read own user', method: 'GET', path: () => '/me', expect: { admin: 200, associated: 200, other: 200 } },
  { name: 'list users', method: 'GET', path: () => '/users/', expect: { admin: 200, associated: 403, other: 403 } },
  {
    name: 'create user',
    method: 'POST',
    path: () => '/users/',
    body: () => {
      const id = `N${unique()}`;
      return { user_id: id, name: 'New', username: `uid-${id}`, email: `${id}@test.mymonit`, role: 'SCIENTIST' };
    },
    expect: { admin: 201, associated: 403, other: 403 },
  },
  { name: 'read user', method: 'GET', path: () => `/users/${associated.id}`, expect: { admin: 200, associated: 200, other: 403 } },
  {
    name: 'update user',
    method: 'PUT',
    path: () => `/users/${associated.id}`,
    body: () => ({ name: `Renamed ${unique()}`, username: associated.uid, email: associated.email }),
    expect: { admin: 200, associated: 200, other: 403 },
  },
  { name: 'erase user', method: 'DELETE', path: async () => `/users/${await freshScientist()}`, expect: { admin: 204, associated: 403, other: 403 } },
  { name: 'list experiments', method: 'GET', path: () => '/experiments', expect: { admin: 200, associated: 200, other: 200 } },
  {
    name: 'create experiment',
    method: 'POST',
    path: () => '/experiments/',
    body: () => ({ name: `exp-${unique()}` }),
    expect: { admin: 201, associated: 403, other: 403 },
  },
  {
    name: 'rename experiment',
    method: 'PUT',
    path: () => `/experiments/${otherExperiment}`,
    body: () => ({ name: `renamed-${unique()}` }),
    expect: { admin: 200, associated: 403, other: 403 },
  },
  { name: 'list associations', method: 'GET', path: () => '/scientists-experiments/', expect: { admin: 200, associated: 403, other: 403 } },
  {
    name: 'associate',
    method: 'POST',
    path: async () => `/scientists-experiments/${otherExperiment}/${await freshScientist()}`,
    expect: { admin: 201, associated: 403, other: 403 },
  },
  {
    name: 'dissociate',
    method: 'DELETE',
    path: async () => {
      const id = await freshScientist();
      await api.associate(otherExperiment, id);
      return `/scientists-experiments/${otherExperiment}/${id}`;
    },
    expect: { admin: 204, associated: 403, other: 403 },
  },
  { name: 'list measure types', method: 'GET', path: () => '/measure-types/', expect: { admin: 200, associated: 200, other: 200 } },
  {
    name: 'create measure type',
    method: 'POST',
    path: () => '/measure-types',
    body: () => ({ name: `unit-${unique()}`, symbol: 'u', quantity: 'test quantity' }),
    expect: { admin: 201, associated: 403, other: 403 },
  },
  { name: 'read measures', method: 'GET', path: () => `/measures/${experiment}`, expect: { admin: 403, associated: 200, other: 404 } },
  { name: 'read measures of a missing experiment', method: 'GET', path: () => '/measures/999999', expect: { admin: 403, associated: 404, other: 404 } },
  { name: 'list rejections', method: 'GET', path: () => '/rejections/', expect: { admin: 200, associated: 403, other: 403 } },
  { name: 'list audit events', method: 'GET', path: () => '/audit/', expect: { admin: 200, associated: 403, other: 403 } },
];

async function call(route: RouteCase, caller: Caller): Promise<ApiResponse> {
  const body = route.body?.();
  return api.request(route.method, await route.path(), { headers: headersOf[caller], body });
}

beforeAll(async () => {
  api = await startApi('api_authz');
  admin = await api.user('ADMIN');
  associated = await api.user('SCIENTIST');
  other = await api.user('SCIENTIST');
  experiment = await api.experiment('matrix-experiment');
  otherExperiment = await api.experiment('matrix-other');
  await api.associate(experiment, associated.id);
  await api.associate(otherExperiment, other.id);

  const revoked = await api.user('SCIENTIST');
  await api.associate(experiment, revoked.id);
  await revokeTokens(revoked.uid);
  const disabled = await api.user('ADMIN');
  await disable(disabled.uid);
  const unknown = await newIdentity('nobody');
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  Object.assign(headersOf, {
    none: {},
    malformed: { authorization: `Token ${admin.idToken}` },
    garbage: bearer('not.a.jwt'),
    expired: bearer(expiredCopy(admin.idToken)),
    revoked: bearer(revoked.idToken),
    disabled: bearer(disabled.idToken),
    unknown_uid: bearer(unknown.idToken),
    admin: bearer(admin.idToken),
    associated: bearer(associated.idToken),
    other: bearer(other.idToken),
  });
});
afterAll(async () => {
  await api?.close();
});

describe.each(routes.map((r) => [r.name, r] as const))('%s', (_name, route) => {
  test.each(UNAUTHENTICATED)('%s → 401 problem+json', async (caller) => {
    const res = await call(route, caller);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  test.each(['admin', 'associated', 'other'] as const)('%s', async (caller) => {
    const res = await call(route, caller);
    expect({ status: res.status, body: res.status >= 400 ? res.json : undefined }).toMatchObject({ status: route.expect[caller] });
    if (res.status >= 400) expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

test('public probes need no token', async () => {
  for (const path of ['/healthz', '/readyz', '/metrics']) expect((await api.request('GET', path)).status).toBe(200);
});

test('GET /me answers each caller with their own user and role, from the database', async () => {
  for (const [caller, who] of [['admin', admin], ['associated', associated], ['other', other]] as const) {
    const res = await api.request('GET', '/me', { headers: headersOf[caller] });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ user_id: who.id, username: who.uid, email: who.email, role: who.role });
  }
  // The role comes from the users table, not from the token: promote, and the same token says ADMIN.
  await api.db.pool.query("UPDATE users SET role = 'ADMIN' WHERE id = ?", [other.id]);
  try {
    expect((await api.request('GET', '/me', { headers: headersOf.other })).json).toMatchObject({ user_id: other.id, role: 'ADMIN' });
  } finally {
    await api.db.pool.query("UPDATE users SET role = 'SCIENTIST' WHERE id = ?", [other.id]);
  }
});

test('a scientist sees only their experiments', async () => {
  const res = await api.request('GET', '/experiments', { headers: headersOf.other });
  expect((res.json as Array<{ experiment_id: number }>).map((e) => e.experiment_id)).toEqual([otherExperiment]);
});

test('a scientist may not re-point their own username (another Firebase uid)', async () => {
  const res = await api.request('PUT', `/users/${associated.id}`, {
    headers: headersOf.associated,
    body: { name: 'Me', username: 'someone-elses-uid', email: associated.email },
  });
  expect(res.status).toBe(403);
  const [rows] = await api.db.pool.query('SELECT username FROM users WHERE id = ?', [associated.id]);
  expect((rows as Array<{ username: string }>)[0].username).toBe(associated.uid);
});

test('a scientist reading an experiment not theirs gets 404, and the attempt is audited', async () => {
  const res = await api.request('GET', `/measures/${experiment}`, { headers: headersOf.other });
  expect(res.status).toBe(404);
  // Same answer as for an experiment that does not exist: nothing to probe.
  const missing = await api.request('GET', '/measures/999998', { headers: headersOf.other });
  expect(missing.status).toBe(404);
  const detail = (r: typeof res) => (r.json as { detail: string }).detail;
  expect(detail(missing).replace('999998', 'N')).toBe(detail(res).replace(String(experiment), 'N'));

  const [rows] = await api.db.pool.query(
    "SELECT actor_id, action, target_type, target_id, outcome, ip, request_id, details FROM audit_events WHERE request_id = ?",
    [res.headers.get('x-request-id')],
  );
  expect(rows).toEqual([
    {
      actor_id: other.id,
      action: 'measures.read',
      target_type: 'experiment',
      target_id: String(experiment),
      outcome: 'denied',
      ip: '127.0.0.1',
      request_id: res.headers.get('x-request-id'),
      details: expect.any(String),
    },
  ]);
  expect(JSON.parse((rows as Array<{ details: string }>)[0].details)).toMatchObject({ status: 404, reason: 'not associated with the experiment' });
});

test('denials of every kind are audited; no token text is ever stored', async () => {
  const res = await api.request('GET', '/users', { headers: headersOf.garbage });
  const forbidden = await api.request('POST', '/experiments', { headers: headersOf.other, body: { name: 'nope' } });
  const [rows] = await api.db.pool.query(
    'SELECT actor_id, action, outcome FROM audit_events WHERE request_id IN (?, ?) ORDER BY id',
    [res.headers.get('x-request-id'), forbidden.headers.get('x-request-id')],
  );
  expect(rows).toEqual([
    { actor_id: null, action: 'users.list', outcome: 'denied' },
    { actor_id: other.id, action: 'experiment.create', outcome: 'denied' },
  ]);
  const [all] = await api.db.pool.query('SELECT details FROM audit_events');
  const text = JSON.stringify(all);
  expect(text).not.toContain(admin.idToken.split('.')[1]);
  expect(text).not.toContain(associated.idToken.split('.')[1]);
});
