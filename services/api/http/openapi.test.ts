import { z } from 'zod';
import { buildOpenApi, describeAllow } from './openapi';
import { route } from './route';

const handler = () => ({ body: {} });

describe('buildOpenApi', () => {
  const doc = buildOpenApi(
    [
      route({ method: 'GET', path: '/healthz', action: 'ops.health', allow: 'PUBLIC', handler }),
      route({
        method: 'PUT',
        path: '/users/:user_id',
        action: 'user.update',
        allow: 'SELF_OR_ADMIN',
        params: z.strictObject({ user_id: z.string().regex(/^\w+$/) }),
        query: z.strictObject({ dry: z.string().optional() }),
        body: z.strictObject({ name: z.string().max(5) }),
        response: z.strictObject({ user_id: z.string() }),
        handler,
      }),
      route({ method: 'DELETE', path: '/users/:user_id', action: 'user.erase', allow: ['ADMIN'], params: z.strictObject({ user_id: z.string() }), handler }),
    ],
    { title: 't', version: '1' },
  ) as { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

  it('turns express paths into OpenAPI templates, one operation per method', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/healthz', '/users/{user_id}']);
    expect(Object.keys(doc.paths['/users/{user_id}'])).toEqual(['put', 'delete']);
  });

  it('documents parameters, body and response from the zod schemas', () => {
    const put = doc.paths['/users/{user_id}'].put;
    expect(put.parameters).toEqual([
      { name: 'user_id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\w+$' } },
      { name: 'dry', in: 'query', required: false, schema: { type: 'string' } },
    ]);
    expect(put.requestBody).toMatchObject({
      content: { 'application/json': { schema: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } }, additionalProperties: false } } },
    });
    expect(put.responses).toMatchObject({ 200: { content: { 'application/json': { schema: { required: ['user_id'] } } } } });
    expect(Object.keys(put.responses as object)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415']));
  });

  it('states who may call and which need a token', () => {
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/users/{user_id}'].put.security).toEqual([{ firebaseIdToken: [] }]);
    expect(doc.paths['/users/{user_id}'].delete['x-allow']).toEqual(['ADMIN']);
    expect(doc.paths['/users/{user_id}'].delete.responses).toHaveProperty('204');
    expect(describeAllow('ASSOCIATED_SCIENTIST')).toMatch(/404/);
  });
});
