import { startApi } from './support/api-harness';
import type { ApiHarness, ApiResponse, TestUser } from './support/api-harness';

/**
 * Bad input on every route: a 4xx problem+json that names the offending field, never a 500 or a
 * stack trace, and nothing changed in the database.
 */

let api: ApiHarness;
let admin: TestUser;
let scientist: TestUser;
let experiment: number;

async function snapshot(): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const table of ['users', 'experiments', 'user_experiments', 'measure_types', 'measures']) {
    const [rows] = await api.db.pool.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
    out[table] = rows;
  }
  const [audit] = await api.db.pool.query("SELECT COUNT(*) AS n FROM audit_events WHERE outcome = 'success'");
  out.auditSuccesses = audit;
  return JSON.stringify(out);
}

function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect({ status: res.status, body: res.json }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json).toMatchObject({
    type: expect.stringMatching(/^urn:mymonit:problem:/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    instance: expect.stringMatching(/^\//),
  });
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  if (field !== undefined) expect(res.json.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
}

beforeAll(async () => {
  api = await startApi('api_validation');
  admin = await api.user('ADMIN');
  scientist = await api.user('SCIENTIST');
  experiment = await api.experiment('validation-experiment');
  await api.associate(experiment, scientist.id);
});
afterAll(async () => {
  await api?.close();
});

const validUser = { user_id: 'S900', name: 'Ada', username: 'uid-s900', email: 'ada@test.mymonit', role: 'SCIENTIST' };

interface BadCase {
  readonly name: string;
  readonly as: 'admin' | 'scientist';
  readonly method: string;
  readonly path: string | (() => string);
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly field?: string;
}

const cases: BadCase[] = [
  { name: 'user: missing field', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, email: undefined }, status: 400, field: 'email' },
  { name: 'user: unknown field', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, admin: true }, status: 400, field: 'admin' },
  { name: 'user: wrong type', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, name: 42 }, status: 400, field: 'name' },
  { name: 'user: blank name', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, name: '   ' }, status: 400, field: 'name' },
  { name: 'user: oversized name', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, name: 'x'.repeat(256) }, status: 400, field: 'name' },
  { name: 'user: unknown role', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, role: 'ROOT' }, status: 400, field: 'role' },
  { name: 'user: bad e-mail', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, email: 'no at sign' }, status: 400, field: 'email' },
  { name: 'user: bad id', as: 'admin', method: 'POST', path: '/users/', body: { ...validUser, user_id: 'S 1/2' }, status: 400, field: 'user_id' },
  { name: 'user: body is an array', as: 'admin', method: 'POST', path: '/users/', body: [validUser], status: 400, field: 'body' },
  { name: 'user: no body', as: 'admin', method: 'POST', path: '/users/', status: 400, field: 'body' },
  { name: 'user: malformed JSON', as: 'admin', method: 'POST', path: '/users/', rawBody: '{"user_id": "S9",', headers: { 'content-type': 'application/json' }, status: 400 },
  { name: 'user: not JSON', as: 'admin', method: 'POST', path: '/users/', rawBody: 'user_id=S9', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
  {
    name: 'user: oversized body',
    as: 'admin',
    method: 'POST',
    path: '/users/',
    rawBody: JSON.stringify({ ...validUser, name: 'x'.repeat(100_000) }),
    headers: { 'content-type': 'application/json' },
    status: 413,
  },
  { name: 'user: duplicate e-mail', as: 'admin', method: 'POST', path: '/users/', body: () => 0, status: 409, field: 'email' },
  { name: 'user: duplicate id', as: 'admin', method: 'POST', path: '/users/', body: () => 1, status: 409, field: 'user_id' },
  { name: 'user update: missing username', as: 'admin', method: 'PUT', path: () => `/users/${scientist.id}`, body: { name: 'A', email: 'a@b' }, status: 400, field: 'username' },
  { name: 'user update: unknown user', as: 'admin', method: 'PUT', path: '/users/S404', body: { name: 'A', username: 'u', email: 'a@b' }, status: 404 },
  { name: 'user update: e-mail taken', as: 'admin', method: 'PUT', path: () => `/users/${scientist.id}`, body: () => 2, status: 409, field: 'email' },
  { name: 'user read: bad id', as: 'admin', method: 'GET', path: '/users/%E2%82%AC', status: 400, field: 'user_id' },
  { name: 'user erase: unknown', as: 'admin', method: 'DELETE', path: '/users/S404', status: 404 },
  { name: 'user erase: last admin', as: 'admin', method: 'DELETE', path: () => `/users/${admin.id}`, status: 409 },
  { name: 'experiment: missing name', as: 'admin', method: 'POST', path: '/experiments/', body: {}, status: 400, field: 'name' },
  { name: 'experiment: name not a string', as: 'admin', method: 'POST', path: '/experiments/', body: { name: ['a'] }, status: 400, field: 'name' },
  { name: 'experiment: oversized name', as: 'admin', method: 'POST', path: '/experiments/', body: { name: 'e'.repeat(256) }, status: 400, field: 'name' },
  { name: 'experiment: duplicate name', as: 'admin', method: 'POST', path: '/experiments/', body: { name: 'validation-experiment' }, status: 409, field: 'name' },
  { name: 'experiment rename: bad id', as: 'admin', method: 'PUT', path: '/experiments/abc', body: { name: 'x' }, status: 400, field: 'experiment_id' },
  { name: 'experiment rename: unknown id', as: 'admin', method: 'PUT', path: '/experiments/424242', body: { name: 'x' }, status: 404 },
  { name: 'association: bad experiment id', as: 'admin', method: 'POST', path: () => `/scientists-experiments/0/${scientist.id}`, status: 400, field: 'experiment_id' },
  { name: 'association: unknown experiment', as: 'admin', method: 'POST', path: () => `/scientists-experiments/424242/${scientist.id}`, status: 404 },
  { name: 'association: unknown user', as: 'admin', method: 'POST', path: () => `/scientists-experiments/${experiment}/S404`, status: 404 },
  { name: 'association: an ADMIN', as: 'admin', method: 'POST', path: () => `/scientists-experiments/${experiment}/${admin.id}`, status: 400, field: 'scientist_id' },
  { name: 'association: already there', as: 'admin', method: 'POST', path: () => `/scientists-experiments/${experiment}/${scientist.id}`, status: 409 },
  { name: 'dissociation: not there', as: 'admin', method: 'DELETE', path: () => `/scientists-experiments/${experiment}/S404`, status: 404 },
  { name: 'measure type: oversized symbol', as: 'admin', method: 'POST', path: '/measure-types/', body: { name: 'x', symbol: 's'.repeat(17), quantity: 'q' }, status: 400, field: 'symbol' },
  { name: 'measure type: duplicate', as: 'admin', method: 'POST', path: '/measure-types/', body: { name: 'hertz', symbol: 'Hz', quantity: 'frequency' }, status: 409, field: 'name' },
  { name: 'measures: limit 0', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?limit=0`, status: 400, field: 'limit' },
  { name: 'measures: limit over the cap', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?limit=10001`, status: 400, field: 'limit' },
  { name: 'measures: limit twice', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?limit=1&limit=2`, status: 400, field: 'limit' },
  { name: 'measures: bad from', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?from=yesterday`, status: 400, field: 'from' },
  { name: 'measures: impossible date', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?to=2022-02-30T00:00:00Z`, status: 400, field: 'to' },
  { name: 'measures: bad cursor', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?cursor=bm90LWEtY3Vyc29y`, status: 400, field: 'cursor' },
  { name: 'measures: unknown parameter', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?sort=desc`, status: 400, field: 'sort' },
  { name: 'measures: unknown measure type', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?measure=furlong`, status: 400, field: 'measure' },
  { name: 'measures: oversized source', as: 'scientist', method: 'GET', path: () => `/measures/${experiment}?source=${'s'.repeat(65)}`, status: 400, field: 'source' },
  { name: 'measures: bad experiment id', as: 'scientist', method: 'GET', path: '/measures/1e3', status: 400, field: 'experiment_id' },
  { name: 'audit: cursor of another listing', as: 'admin', method: 'GET', path: '/audit/?cursor=WyJyIiwiMSJd', status: 400, field: 'cursor' },
  { name: 'rejections: bad limit', as: 'admin', method: 'GET', path: '/rejections/?limit=-1', status: 400, field: 'limit' },
  { name: 'unknown route', as: 'admin', method: 'GET', path: '/nothing-here', status: 404 },
  { name: 'wrong method', as: 'admin', method: 'PATCH', path: '/users/', status: 405 },
];

describe('bad input', () => {
  beforeAll(async () => {
    await api.request('POST', '/users/', { headers: { authorization: `Bearer ${admin.idToken}` }, body: validUser });
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // Bodies given as numbers stand for conflicts built from existing rows.
    const clashes = [
      { ...validUser, user_id: 'S901', username: 'uid-s901' },
      { ...validUser, user_id: 'S900', username: 'uid-other', email: 'other@test.mymonit' },
      { name: 'X', username: scientist.uid, email: validUser.email },
    ];
    const body = typeof c.body === 'function' ? clashes[(c.body as () => number)()] : c.body;
    const token = c.as === 'admin' ? admin.idToken : scientist.idToken;
    const before = await snapshot();
    const res = await api.request(c.method, typeof c.path === 'function' ? c.path() : c.path, {
      headers: { authorization: `Bearer ${token}`, ...c.headers },
      body,
      rawBody: c.rawBody,
    });
    expectProblem(res, c.status, c.field);
    expect(await snapshot()).toBe(before);
  });
});

test('405 names the allowed methods', async () => {
  const res = await api.request('DELETE', '/experiments/', { headers: { authorization: `Bearer ${admin.idToken}` } });
  expectProblem(res, 405);
  expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
});

test('trailing slashes are optional', async () => {
  const auth = { authorization: `Bearer ${admin.idToken}` };
  for (const path of ['/experiments', '/experiments/', '/measure-types', '/measure-types/', `/users/${admin.id}`, `/users/${admin.id}/`]) {
    expect((await api.request('GET', path, { headers: auth })).status).toBe(200);
  }
});
