import type { Metrics } from '../../shared/metrics';
import type { Database } from '../domain/ports';
import { route } from '../http/route';
import { probeResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { noQuery } from './schemas';

/** Probes and metrics for the platform; no token, no personal data. */
export function opsRoutes(db: Database, metrics: Metrics): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/healthz',
      action: 'ops.health',
      allow: 'PUBLIC',
      summary: 'The process is up',
      response: probeResponse,
      query: noQuery,
      handler: () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'GET',
      path: '/readyz',
      action: 'ops.ready',
      allow: 'PUBLIC',
      summary: 'The database answers',
      response: probeResponse,
      query: noQuery,
      handler: async () => {
        try {
          await db.ping();
          return { body: { status: 'ready' } };
        } catch {
          return { status: 503, body: { status: 'not ready', reason: 'database unreachable' } };
        }
      },
    }),
    route({
      method: 'GET',
      path: '/metrics',
      action: 'ops.metrics',
      allow: 'PUBLIC',
      summary: 'Prometheus metrics',
      alsoProduces: ['text/plain'],
      handler: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
    }),
  ];
}
