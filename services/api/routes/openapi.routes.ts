import { renderApiDocs } from '../http/api-docs';
import { buildOpenApi } from '../http/openapi';
import type { OpenApiInfo } from '../http/openapi';
import { route } from '../http/route';
import type { RouteDefinition } from '../http/route';

export const API_INFO: OpenApiInfo = {
  title: 'MyMONIT API',
  version: '1.0.0',
  description:
    'Users, experiments, associations, measure types and measures of MyMONIT. Authenticate with ' +
    '`Authorization: Bearer <Firebase ID token>`. Errors are application/problem+json.',
};

/** GET /openapi.json and GET /docs: the document of `routes` plus these two, built once. */
export function openApiRoutes(routes: readonly RouteDefinition[]): RouteDefinition[] {
  let doc: Record<string, unknown> | undefined;
  let html: string | undefined;
  const document = (): Record<string, unknown> => (doc ??= buildOpenApi([...routes, ...own], API_INFO));
  const own: RouteDefinition[] = [
    route({
      method: 'GET',
      path: '/openapi.json',
      action: 'ops.openapi',
      allow: 'PUBLIC',
      summary: 'This document (OpenAPI 3.1)',
      handler: () => ({ body: document() }),
    }),
    route({
      method: 'GET',
      path: '/docs',
      action: 'ops.docs',
      allow: 'PUBLIC',
      summary: 'This document as a web page',
      alsoProduces: ['text/html'],
      handler: () => ({ contentType: 'text/html; charset=utf-8', text: (html ??= renderApiDocs(document())) }),
    }),
  ];
  return own;
}
