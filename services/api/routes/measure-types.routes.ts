import type { MeasureTypeService } from '../domain/measure-types.service';
import { route } from '../http/route';
import { z } from 'zod';
import { measureTypeResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { measureTypeJson } from './presenters';
import { measureTypeBody, noQuery } from './schemas';

export function measureTypesRoutes(types: MeasureTypeService): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/measure-types',
      action: 'measure_types.list',
      allow: 'ANY_USER',
      summary: 'Known measure types (units)',
      response: z.array(measureTypeResponse),
      query: noQuery,
      handler: async () => ({ body: (await types.list()).map(measureTypeJson) }),
    }),
    route({
      method: 'POST',
      path: '/measure-types',
      action: 'measure_type.create',
      allow: ['ADMIN'],
      summary: 'Add a measure type',
      response: measureTypeResponse,
      query: noQuery,
      body: measureTypeBody,
      status: 201,
      handler: async ({ actor, meta, body }) => ({ body: measureTypeJson(await types.create(actor, meta, body)) }),
    }),
  ];
}
