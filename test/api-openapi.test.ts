import { z } from 'zod';
import { auditResponse, experimentResponse, measureResponse, measureTypeResponse, userResponse } from '../services/api/routes/responses';
import { startApi } from './support/api-harness';
import type { ApiHarness } from './support/api-harness';

/** /openapi.json describes every route the app serves, and real responses match it. */

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi('api_openapi');
});
afterAll(async () => {
  await api?.close();
});

test('the document lists every route with its rule, and the original nine unchanged', async () => {
  const res = await api.request('GET', '/openapi.json');
  expect(res.status).toBe(200);
  const doc = res.json as { openapi: string; paths: Record<string, Record<string, { security: unknown[]; 'x-allow': unknown; operationId: string }>> };
  expect(doc.openapi).toBe('3.1.0');
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  expect(ops).toEqual(
    expect.arrayContaining([
      'POST /users',
      'GET /users',
      'GET /me',
      'PUT /users/{user_id}',
      'GET /experiments',
      'POST /experiments',
      'PUT /experiments/{experiment_id}',
      'GET /scientists-experiments',
      'POST /scientists-experiments/{experiment_id}/{scientist_id}',
      'GET /measures/{experiment_id}',
      'GET /users/{user_id}',
      'DELETE /users/{user_id}',
      'DELETE /scientists-experiments/{experiment_id}/{scientist_id}',
      'GET /measure-types',
      'POST /measure-types',
      'GET /rejections',
      'GET /audit',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
      'GET /docs',
    ]),
  );
  const operations = Object.values(doc.paths).flatMap((m) => Object.values(m));
  expect(new Set(operations.map((o) => o.operationId)).size).toBe(operations.length);
  for (const op of operations) expect(op.security.length === 0).toBe(op['x-allow'] === 'PUBLIC');
  const measures = (doc.paths['/measures/{experiment_id}'].get as unknown as { responses: { 200: { content: object } } }).responses[200].content;
  expect(Object.keys(measures)).toEqual(['application/json', 'text/csv', 'application/x-ndjson']);
});

test('/docs renders the same document as a page without scripts', async () => {
  const res = await api.request('GET', '/docs');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.text).toContain('<code>/measures/{experiment_id}</code>');
  expect(res.text).toContain('A SCIENTIST associated with the experiment');
  expect(res.text).not.toMatch(/<script/i);
});

test('real responses match the documented shapes', async () => {
  const admin = await api.user('ADMIN');
  const scientist = await api.user('SCIENTIST');
  const exp = await api.experiment('documented');
  await api.associate(exp, scientist.id);
  await api.db.pool.query(
    "INSERT INTO measures (experiment_id, ts, measure_type_id, source, value) SELECT ?, '2022-04-06 07:00:00.5', id, 's', 1.25 FROM measure_types WHERE name = 'volt'",
    [exp],
  );
  const a = { authorization: `Bearer ${admin.idToken}` };
  const s = { authorization: `Bearer ${scientist.idToken}` };
  const check = async (schema: z.ZodType<unknown>, path: string, headers: Record<string, string>) => {
    const res = await api.request('GET', path, { headers });
    expect(res.status).toBe(200);
    expect(schema.parse(res.json)).toEqual(res.json);
    return res.json as unknown[];
  };
  await check(z.array(userResponse), '/users', a);
  await check(userResponse, `/users/${scientist.id}`, s);
  await check(z.array(experimentResponse), '/experiments', s);
  await check(z.array(measureTypeResponse), '/measure-types', s);
  expect(await check(z.array(measureResponse), `/measures/${exp}`, s)).toHaveLength(1);
  expect((await check(z.array(auditResponse), '/audit', a)).length).toBeGreaterThan(0);
});
