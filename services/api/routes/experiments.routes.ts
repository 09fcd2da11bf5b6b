import type { ExperimentService } from '../domain/experiments.service';
import { route } from '../http/route';
import { z } from 'zod';
import { experimentResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { experimentJson } from './presenters';
import { experimentBody, experimentParams, noQuery } from './schemas';

export function experimentsRoutes(experiments: ExperimentService): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/experiments',
      action: 'experiments.list',
      allow: 'ANY_USER',
      summary: 'ADMIN: all experiments; SCIENTIST: the associated ones',
      response: z.array(experimentResponse),
      query: noQuery,
      handler: async ({ actor }) => ({ body: (await experiments.list(actor)).map(experimentJson) }),
    }),
    route({
      method: 'POST',
      path: '/experiments',
      action: 'experiment.create',
      allow: ['ADMIN'],
      summary: 'Create an experiment',
      response: experimentResponse,
      query: noQuery,
      body: experimentBody,
      status: 201,
      handler: async ({ actor, meta, body }) => {
        const e = await experiments.create(actor, meta, body.name);
        return { body: experimentJson(e), headers: { Location: `/experiments/${e.id}` } };
      },
    }),
    route({
      method: 'PUT',
      path: '/experiments/:experiment_id',
      action: 'experiment.rename',
      allow: ['ADMIN'],
      summary: 'Rename an experiment',
      response: experimentResponse,
      params: experimentParams,
      query: noQuery,
      body: experimentBody,
      target: { type: 'experiment', param: 'experiment_id' },
      handler: async ({ actor, meta, params, body }) => ({
        body: experimentJson(await experiments.rename(actor, meta, params.experiment_id, body.name)),
      }),
    }),
  ];
}
