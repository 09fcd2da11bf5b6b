import { z } from 'zod';
import { AGGREGATE_FUNCTIONS, MAX_BUCKETS } from '../domain/aggregation';
import type { MeasureService } from '../domain/measures.service';
import { route } from '../http/route';
import type { RouteDefinition } from '../http/route';
import { aggregateJson } from './presenters';
import { aggregateResponse } from './responses';
import { aggregateQuery, experimentParams } from './schemas';

export function measureAggregatesRoutes(measures: MeasureService): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/measures/:experiment_id/aggregate',
      action: 'measures.aggregate',
      allow: 'ASSOCIATED_SCIENTIST',
      summary: 'avg, min, max and count of an experiment’s measures per time bucket, computed by the database',
      description:
        'Rows with `from` ≤ timestamp < `to` are grouped into buckets aligned to UTC multiples of `interval` since ' +
        '1970-01-01T00:00:00Z (so 1d buckets start at UTC midnight; the first and last bucket are partial when ' +
        '`from` or `to` is not aligned). One object per bucket and measure type that holds rows, ordered by bucket ' +
        'then measure type; empty buckets are left out. Only the functions named in `fn` are present. ' +
        `At most ${MAX_BUCKETS} buckets may lie between \`from\` and \`to\`.`,
      response: z.array(aggregateResponse),
      params: experimentParams,
      query: aggregateQuery,
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params, query }) => {
        const rows = await measures.aggregate(actor, meta, {
          experimentId: params.experiment_id,
          measure: query.measure,
          source: query.source,
          fromUs: query.from,
          toUs: query.to,
          intervalSeconds: query.interval,
          fns: query.fn ?? AGGREGATE_FUNCTIONS,
        });
        return { body: rows.map(aggregateJson) };
      },
    }),
  ];
}
