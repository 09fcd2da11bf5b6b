import { z } from 'zod';
import type { Allow, RouteDefinition } from './route';

/**
 * OpenAPI 3.1 document built from the routes themselves: paths, rules, path/query/body schemas
 * (zod → JSON Schema, input side) and response shapes. It cannot drift from the code.
 */

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType<unknown>, io: 'input' | 'output'): JsonSchema {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  return s;
}

function properties(schema: z.ZodType<unknown> | undefined): Array<[string, JsonSchema, boolean]> {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => [name, p, required.has(name)]);
}

export function describeAllow(allow: Allow): string {
  if (allow === 'PUBLIC') return 'Anyone, no token.';
  if (allow === 'ANY_USER') return 'Any authenticated user.';
  if (allow === 'SELF_OR_ADMIN') return 'The user named in the path, or an ADMIN; others get 403.';
  if (allow === 'ASSOCIATED_SCIENTIST') {
    return 'A SCIENTIST associated with the experiment; an ADMIN gets 403, a scientist not associated gets 404.';
  }
  return `Users with role ${allow.join(' or ')}; others get 403.`;
}

const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const ERROR_DESCRIPTIONS: Record<string, string> = {
  '400': 'Invalid path, query or body; `errors` names each field',
  '401': 'Missing, malformed, expired or revoked token, or a uid that maps to no user',
  '403': 'A known user without the right',
  '404': 'Not found, or not visible to the caller',
  '405': 'Method not allowed on this path',
  '409': 'Conflicts with existing data; `errors` names the field',
  '413': 'Request body too large',
  '415': 'Request body is not JSON',
  '429': 'Rate limit exceeded; see Retry-After',
  '500': 'Unexpected error; quote the request id',
  '503': 'A dependency is unavailable; retry later',
};

function errorStatuses(r: RouteDefinition): string[] {
  const out = ['400'];
  if (r.allow !== 'PUBLIC') out.push('401', '429');
  if (r.allow !== 'PUBLIC' && r.allow !== 'ANY_USER') out.push('403');
  if (r.params || r.allow === 'ASSOCIATED_SCIENTIST') out.push('404');
  if (r.body) out.push('409', '413', '415');
  out.push('500');
  return [...new Set(out)].sort();
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

export function buildOpenApi(routes: readonly RouteDefinition[], info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    const status = String(r.status ?? (r.method === 'DELETE' ? 204 : 200));
    const parameters = [
      ...properties(r.params).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...properties(r.query).map(([name, schema, required]) => ({ name, in: 'query', required, schema })),
    ];
    const content: Record<string, unknown> = {};
    if (r.response) content['application/json'] = { schema: jsonSchema(r.response, 'output') };
    for (const type of r.alsoProduces ?? []) content[type] = { schema: { type: 'string' } };
    const responses: Record<string, unknown> = {
      [status]: { description: status === '204' ? 'Done, no body' : 'Success', ...(Object.keys(content).length ? { content } : {}) },
    };
    for (const s of errorStatuses(r)) {
      responses[s] = { description: ERROR_DESCRIPTIONS[s], content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.action,
      summary: r.summary,
      description: `${r.description ? `${r.description}\n\n` : ''}Who may call: ${describeAllow(r.allow)}`,
      'x-allow': r.allow,
      security: r.allow === 'PUBLIC' ? [] : [{ firebaseIdToken: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: {
        firebaseIdToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Firebase ID token' },
      },
    },
  };
}
