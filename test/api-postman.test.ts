import collection from './fixtures/original-postman-collection.json';
import { createAccount, EmulatorError, signIn } from '../scripts/token';
import { AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID } from './support/firebase-emulator';
import { startApi } from './support/api-harness';
import type { ApiHarness, ApiResponse } from './support/api-harness';

/**
 * The original system's Postman collection (a verbatim copy of its JSON), replayed unchanged:
 * same paths, methods, headers and bodies; only the collection's variables are filled in.
 */

interface PostmanRequest {
  method: string;
  header: Array<{ key: string; value: string }>;
  body?: { mode: string; raw: string };
  url: { raw: string };
}
interface PostmanItem {
  name: string;
  item?: PostmanItem[];
  request?: PostmanRequest;
}

function flatten(items: PostmanItem[]): Array<{ name: string; request: PostmanRequest }> {
  return items.flatMap((i) => (i.item ? flatten(i.item) : i.request ? [{ name: i.name, request: i.request }] : []));
}

const requests = flatten(collection.item);
const byName = (name: string) => {
  const r = requests.find((x) => x.name === name);
  if (!r) throw new Error(`no request ${name} in the collection`);
  return r;
};

let api: ApiHarness;
const vars: Record<string, string> = {};

async function run(name: string): Promise<ApiResponse> {
  const { request } = byName(name);
  const fill = (s: string) => s.replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? `{{${k}}}`);
  const headers: Record<string, string> = { authorization: fill('Bearer {{token}}') };
  for (const h of request.header) headers[h.key] = fill(h.value);
  const raw = request.body?.mode === 'raw' ? request.body.raw : undefined;
  const url = new URL(fill(request.url.raw));
  // Postman sends an empty raw body as no body at all (fetch refuses a body on GET anyway).
  return api.request(request.method, url.pathname, { headers, rawBody: raw === '' ? undefined : raw });
}

/** The collection's user has username "firebaseUid": give that uid an emulator account. */
async function scientistToken(): Promise<string> {
  const email = 'postman-firebaseuid@test.mymonit';
  const password = 'postman-collection-password';
  try {
    await createAccount(AUTH_EMULATOR_HOST, FIREBASE_PROJECT_ID, { uid: 'firebaseUid', email, password });
  } catch (err) {
    // Left by an earlier run against an emulator that kept its accounts.
    if (!(err instanceof EmulatorError && /DUPLICATE|EXISTS/.test(err.code))) throw err;
  }
  return (await signIn(AUTH_EMULATOR_HOST, email, password)).idToken;
}

beforeAll(async () => {
  api = await startApi('api_postman');
  const admin = await api.user('ADMIN', 'A001');
  vars.url = api.baseUrl;
  vars.token = admin.idToken;
  vars.user_id = 'S123';
  vars.scientist_id = 'S123';
});
afterAll(async () => {
  await api?.close();
});

test('the collection holds the nine original requests', () => {
  expect(requests.map((r) => `${r.request.method} ${r.request.url.raw}`)).toEqual([
    'POST {{url}}/users/',
    'PUT {{url}}/users/{{user_id}}',
    'GET {{url}}/users/',
    'GET {{url}}/experiments/',
    'POST {{url}}/experiments/',
    'PUT {{url}}/experiments/{{experiment_id}}',
    'GET {{url}}/measures/{{experiment_id}}',
    'GET {{url}}/scientists-experiments/',
    'POST {{url}}/scientists-experiments/{{experiment_id}}/{{scientist_id}}',
  ]);
});

test('replayed in file order with the admin token, then as the scientist', async () => {
  const created = await run('create users');
  expect(created.status).toBe(201);
  expect(created.headers.get('content-type')).toMatch(/^application\/json/);
  expect(created.json).toEqual({ user_id: 'S123', name: 'Foo Bar', username: 'firebaseUid', email: 'foo@bar.com', role: 'SCIENTIST' });

  const updated = await run('update user');
  expect(updated.status).toBe(200);
  expect(updated.json).toEqual({ user_id: 'S123', name: 'Foo Bar', username: 'firebaseUid', email: 'foo@bar', role: 'SCIENTIST' });

  const users = await run('retrieve users');
  expect(users.status).toBe(200);
  expect(users.json).toContainEqual(updated.json);

  const none = await run('retrieve experiment');
  expect(none.status).toBe(200);
  expect(none.json).toEqual([]);

  const experiment = await run('create experiment');
  expect(experiment.status).toBe(201);
  expect(experiment.json).toEqual({ experiment_id: expect.any(Number), name: 'EXP0001' });
  vars.experiment_id = String(experiment.json.experiment_id);

  // Renaming to its own name is a no-op, not a conflict.
  const renamed = await run('update experiment');
  expect(renamed.status).toBe(200);
  expect(renamed.json).toEqual(experiment.json);

  // An ADMIN manages experiments but never reads their data.
  const adminMeasures = await run('retrieve measures');
  expect(adminMeasures.status).toBe(403);
  expect(adminMeasures.headers.get('content-type')).toMatch(/^application\/problem\+json/);

  const noAssociations = await run('retrieve scientists/ experiment');
  expect(noAssociations.status).toBe(200);
  expect(noAssociations.json).toEqual({});

  const associated = await run('associate scientists to experiment');
  expect(associated.status).toBe(201);
  expect(associated.json).toEqual({ experiment_id: experiment.json.experiment_id, scientist_id: 'S123' });

  const associations = await run('retrieve scientists/ experiment');
  expect(associations.json).toEqual({
    [vars.experiment_id]: { name: 'EXP0001', users: [updated.json] },
  });

  // The collection's single {{token}} swapped for the scientist's, as its users did.
  vars.token = await scientistToken();
  const mine = await run('retrieve experiment');
  expect(mine.status).toBe(200);
  expect(mine.json).toEqual([experiment.json]);

  const empty = await run('retrieve measures');
  expect(empty.status).toBe(200);
  expect(empty.json).toEqual([]);

  await api.db.pool.query(
    `INSERT INTO measures (experiment_id, ts, measure_type_id, source, value)
     SELECT ?, '2022-04-06 07:00:00', id, '', 100 FROM measure_types WHERE name = 'hertz'`,
    [experiment.json.experiment_id],
  );
  const measures = await run('retrieve measures');
  expect(measures.status).toBe(200);
  // The original swapped these fields (its bug #1); each now holds what its name says.
  expect(measures.json).toEqual([
    { experiment: 'EXP0001', measure_type: 'hertz', timestamp: '2022-04-06T07:00:00.000000Z', value: 100, source: '' },
  ]);

  // A scientist cannot administer.
  expect((await run('create experiment')).status).toBe(403);
  expect((await run('retrieve users')).status).toBe(403);
});
