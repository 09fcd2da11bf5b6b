import { decodeMeasureCursor, encodeMeasureCursor } from '../domain/cursor';
import type { MeasureService } from '../domain/measures.service';
import type { PageLimits } from '../domain/ports';
import { route } from '../http/route';
import { z } from 'zod';
import { measureResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { chunked, CSV_HEADER, CSV_TYPE, csvLines, NDJSON_TYPE, ndjsonLines } from './measure-export';
import { measuresJson, nextLink } from './presenters';
import { experimentParams, measuresQuery } from './schemas';

export function measuresRoutes(measures: MeasureService, limits: PageLimits): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/measures/:experiment_id',
      action: 'measures.read',
      allow: 'ASSOCIATED_SCIENTIST',
      summary:
        'Measures of one experiment in (timestamp, measure type, source) order; `from` inclusive, `to` exclusive. ' +
        'JSON comes in pages (a Link header with rel="next" points to the next one); with Accept: text/csv or ' +
        'application/x-ndjson every matching row is streamed (limit optional, cursor resumes)',
      response: z.array(measureResponse),
      alsoProduces: [CSV_TYPE, NDJSON_TYPE],
      params: experimentParams,
      query: measuresQuery(limits.max),
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params, query, url, accepts, signal }) => {
        const after = query.cursor === undefined ? undefined : decodeMeasureCursor(query.cursor);
        const filter = { experimentId: params.experiment_id, measure: query.measure, source: query.source, from: query.from, to: query.to };
        const type = accepts(['application/json', CSV_TYPE, NDJSON_TYPE]);
        if (type === CSV_TYPE || type === NDJSON_TYPE) {
          const csv = type === CSV_TYPE;
          const rows = await measures.export(actor, meta, filter, csv ? 'csv' : 'ndjson', { limit: query.limit, after, signal });
          return {
            contentType: csv ? `${CSV_TYPE}; charset=utf-8; header=present` : NDJSON_TYPE,
            headers: { Vary: 'Accept' },
            stream: csv ? chunked(rows, csvLines, CSV_HEADER) : chunked(rows, ndjsonLines),
          };
        }
        const page = await measures.page(actor, meta, filter, query.limit ?? limits.default, after);
        return {
          contentType: 'application/json; charset=utf-8',
          text: measuresJson(page.rows),
          headers: { Vary: 'Accept', ...(page.next ? nextLink(url, encodeMeasureCursor(page.next)) : {}) },
        };
      },
    }),
  ];
}
