import { startApi } from './support/api-harness';
import type { ApiHarness, TestUser } from './support/api-harness';

/** User administration (GDPR erasure), the audit trail of changes, and the admin listings. */

let api: ApiHarness;
let admin: TestUser;
const asAdmin = () => ({ authorization: `Bearer ${admin.idToken}` });

beforeAll(async () => {
  api = await startApi('api_admin');
  admin = await api.user('ADMIN');
});
afterAll(async () => {
  await api?.close();
});

async function auditOf(requestId: string | null) {
  const [rows] = await api.db.pool.query(
    'SELECT actor_id, actor_uid, action, target_type, target_id, outcome, ip, request_id, details FROM audit_events WHERE request_id = ? ORDER BY id',
    [requestId],
  );
  return (rows as Array<Record<string, string | null>>).map((r) => ({ ...r, details: r.details === null ? null : JSON.parse(r.details) }));
}

test('every change writes one audit event naming actor, action, target and outcome', async () => {
  const created = await api.request('POST', '/users', {
    headers: asAdmin(),
    body: { user_id: 'S500', name: 'Rosalind', username: 'uid-s500', email: 'rf@test.mymonit', role: 'SCIENTIST' },
  });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toBe('/users/S500');
  const exp = await api.request('POST', '/experiments', { headers: asAdmin(), body: { name: 'audited' } });
  const id = exp.json.experiment_id;
  const renamed = await api.request('PUT', `/experiments/${id}`, { headers: asAdmin(), body: { name: 'audited-2' } });
  const assoc = await api.request('POST', `/scientists-experiments/${id}/S500`, { headers: asAdmin() });
  const updated = await api.request('PUT', '/users/S500', {
    headers: asAdmin(),
    body: { name: 'Rosalind F.', username: 'uid-s500', email: 'rf2@test.mymonit' },
  });
  const type = await api.request('POST', '/measure-types', { headers: asAdmin(), body: { name: 'becquerel-2', symbol: 'Bq', quantity: 'activity' } });
  const dissoc = await api.request('DELETE', `/scientists-experiments/${id}/S500`, { headers: asAdmin() });

  const expectations: Array<[typeof created, string, string, string, Record<string, unknown>]> = [
    [created, 'user.create', 'user', 'S500', { role: 'SCIENTIST' }],
    [exp, 'experiment.create', 'experiment', String(id), { name: 'audited' }],
    [renamed, 'experiment.rename', 'experiment', String(id), { from: 'audited', to: 'audited-2' }],
    [assoc, 'association.create', 'experiment', String(id), { scientist_id: 'S500' }],
    [updated, 'user.update', 'user', 'S500', { changed: ['name', 'email'] }],
    [type, 'measure_type.create', 'measure_type', String(type.json.measure_type_id), { name: 'becquerel-2' }],
    [dissoc, 'association.delete', 'experiment', String(id), { scientist_id: 'S500' }],
  ];
  for (const [res, action, targetType, targetId, details] of expectations) {
    expect(res.status).toBeLessThan(300);
    expect(await auditOf(res.headers.get('x-request-id'))).toEqual([
      {
        actor_id: admin.id,
        actor_uid: admin.uid,
        action,
        target_type: targetType,
        target_id: targetId,
        outcome: 'success',
        ip: '127.0.0.1',
        request_id: res.headers.get('x-request-id'),
        details: expect.objectContaining(details),
      },
    ]);
  }
  // Personal data stays out of the audit trail: erasure could not reach it there.
  const [all] = await api.db.pool.query("SELECT details FROM audit_events WHERE target_id = 'S500'");
  expect(JSON.stringify(all)).not.toMatch(/Rosalind|rf@|rf2@/);
});

test('GDPR erasure: personal fields anonymised, associations removed, id and audit kept, login gone', async () => {
  const victim = await api.user('SCIENTIST');
  const exp = await api.experiment('erasure');
  await api.associate(exp, victim.id);
  const own = { authorization: `Bearer ${victim.idToken}` };
  expect((await api.request('GET', `/measures/${exp}`, { headers: own })).status).toBe(200);

  const erased = await api.request('DELETE', `/users/${victim.id}`, { headers: asAdmin() });
  expect(erased.status).toBe(204);
  expect(erased.text).toBe('');

  const [rows] = await api.db.pool.query('SELECT id, name, username, email, role, deleted_at FROM users WHERE id = ?', [victim.id]);
  expect(rows).toEqual([{ id: victim.id, name: null, username: null, email: null, role: 'SCIENTIST', deleted_at: expect.any(String) }]);
  const [assoc] = await api.db.pool.query('SELECT * FROM user_experiments WHERE user_id = ?', [victim.id]);
  expect(assoc).toEqual([]);
  const [audit] = await api.db.pool.query('SELECT action FROM audit_events WHERE actor_id = ? ORDER BY id', [victim.id]);
  expect(audit).toEqual([{ action: 'measures.read' }]);
  expect(await auditOf(erased.headers.get('x-request-id'))).toEqual([
    expect.objectContaining({ action: 'user.erase', target_id: victim.id, details: { associationsRemoved: 1 } }),
  ]);

  // The Firebase account may still exist, but it no longer maps to anyone.
  expect((await api.request('GET', `/measures/${exp}`, { headers: own })).status).toBe(401);
  expect((await api.request('GET', `/users/${victim.id}`, { headers: asAdmin() })).status).toBe(404);
  expect((await api.request('DELETE', `/users/${victim.id}`, { headers: asAdmin() })).status).toBe(404);
  const list = await api.request('GET', '/users', { headers: asAdmin() });
  expect((list.json as Array<{ user_id: string }>).map((u) => u.user_id)).not.toContain(victim.id);
  // The e-mail and uid are free again; the id is not.
  const again = await api.request('POST', '/users', {
    headers: asAdmin(),
    body: { user_id: `${victim.id}b`, name: 'Again', username: victim.uid, email: victim.email, role: 'SCIENTIST' },
  });
  expect(again.status).toBe(201);
  const sameId = await api.request('POST', '/users', {
    headers: asAdmin(),
    body: { user_id: victim.id, name: 'Again', username: 'uid-new', email: 'new@test.mymonit', role: 'SCIENTIST' },
  });
  expect(sameId.status).toBe(409);
});

test('a user reads and updates themself; role and id never change', async () => {
  const me = await api.user('SCIENTIST');
  const auth = { authorization: `Bearer ${me.idToken}` };
  expect((await api.request('GET', `/users/${me.id}`, { headers: auth })).json).toMatchObject({ user_id: me.id, role: 'SCIENTIST' });
  const res = await api.request('PUT', `/users/${me.id}`, { headers: auth, body: { name: 'New Name', username: me.uid, email: 'new-me@test.mymonit' } });
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ user_id: me.id, name: 'New Name', username: me.uid, email: 'new-me@test.mymonit', role: 'SCIENTIST' });
  const escalate = await api.request('PUT', `/users/${me.id}`, {
    headers: auth,
    body: { name: 'New Name', username: me.uid, email: 'new-me@test.mymonit', role: 'ADMIN' },
  });
  expect(escalate.status).toBe(400);
  expect(escalate.json.errors).toEqual([{ field: 'role', message: 'is not allowed' }]);
});

test('rejections: newest first, paged with a Link, raw text clipped', async () => {
  const big = 'x'.repeat(70 * 1024);
  const rows = [
    ['invalid_json', 'Unexpected token', '{bad', null],
    ['unknown_experiment', 'no experiment nope', '{"experiment":"nope"}', 'm-1'],
    ['invalid_measure', 'value: must be a finite number', big, 'm-2'],
  ];
  await api.db.pool.query('INSERT INTO rejected_measures (reason, detail, raw, message_id) VALUES ?', [rows]);
  const first = await api.request('GET', '/rejections?limit=2', { headers: asAdmin() });
  expect(first.status).toBe(200);
  expect((first.json as Array<{ reason: string }>).map((r) => r.reason)).toEqual(['invalid_measure', 'unknown_experiment']);
  expect(first.json[0]).toMatchObject({ raw_truncated: true, message_id: 'm-2', received_at: expect.stringMatching(/Z$/) });
  expect(first.json[0].raw).toHaveLength(64 * 1024);
  const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')![1];
  const second = await api.request('GET', next, { headers: asAdmin() });
  expect(second.json).toEqual([expect.objectContaining({ reason: 'invalid_json', raw: '{bad', raw_truncated: false, message_id: null })]);
  expect(second.headers.get('link')).toBeNull();
  const filtered = await api.request('GET', '/rejections?reason=unknown_experiment', { headers: asAdmin() });
  expect(filtered.json).toHaveLength(1);
});

test('audit: newest first, filtered by actor or action, pages join up', async () => {
  const all = await api.request('GET', '/audit?limit=10000', { headers: asAdmin() });
  expect(all.status).toBe(200);
  const events = all.json as Array<{ id: string }>;
  const ids = events.map((e) => Number(e.id));
  expect(ids).toEqual([...ids].sort((a, b) => b - a));

  const paged: Array<{ id: string }> = [];
  let next: string | undefined = '/audit?limit=3';
  while (next) {
    const res = await api.request('GET', next, { headers: asAdmin() });
    paged.push(...(res.json as Array<{ id: string }>));
    const link = res.headers.get('link');
    next = link ? /^<([^>]+)>/.exec(link)![1] : undefined;
  }
  expect(paged.map((e) => e.id)).toEqual(events.map((e) => e.id));

  const creates = await api.request('GET', '/audit?action=user.create', { headers: asAdmin() });
  expect(creates.json.length).toBeGreaterThan(0);
  expect((creates.json as Array<{ action: string }>).every((e) => e.action === 'user.create')).toBe(true);
  const byActor = await api.request('GET', `/audit?actor=${admin.id}&limit=5`, { headers: asAdmin() });
  expect((byActor.json as Array<{ actor_id: string }>).every((e) => e.actor_id === admin.id)).toBe(true);
});
