import type { AssociationService } from '../domain/associations.service';
import { route } from '../http/route';
import { associationResponse, associationsResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { associationsJson } from './presenters';
import { associationParams, noQuery } from './schemas';

export function associationsRoutes(associations: AssociationService): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/scientists-experiments',
      action: 'associations.list',
      allow: ['ADMIN'],
      summary: 'Associated scientists, keyed by experiment id',
      response: associationsResponse,
      query: noQuery,
      handler: async () => ({ body: associationsJson(await associations.list()) }),
    }),
    route({
      method: 'POST',
      path: '/scientists-experiments/:experiment_id/:scientist_id',
      action: 'association.create',
      allow: ['ADMIN'],
      summary: 'Let a SCIENTIST read an experiment (any request body is ignored)',
      response: associationResponse,
      params: associationParams,
      query: noQuery,
      status: 201,
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params }) => {
        await associations.associate(actor, meta, params.experiment_id, params.scientist_id);
        return { body: { experiment_id: params.experiment_id, scientist_id: params.scientist_id } };
      },
    }),
    route({
      method: 'DELETE',
      path: '/scientists-experiments/:experiment_id/:scientist_id',
      action: 'association.delete',
      allow: ['ADMIN'],
      summary: 'Remove an association',
      params: associationParams,
      query: noQuery,
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params }) => {
        await associations.dissociate(actor, meta, params.experiment_id, params.scientist_id);
        return { status: 204 };
      },
    }),
  ];
}
