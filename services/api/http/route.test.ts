import { z } from 'zod';
import { route } from './route';

/**
 * The rule of a route is part of its type. The @ts-expect-error lines are checked by `tsc -p .`:
 * if any of them compiled, the typecheck would fail.
 */

const handler = () => ({ body: [] });

describe('route()', () => {
  it('keeps the declared rule', () => {
    expect(route({ method: 'GET', path: '/x', action: 'x.list', allow: ['ADMIN'], handler }).allow).toEqual(['ADMIN']);
  });

  it('does not compile without a rule, or with a rule missing the parameter it reads', () => {
    // @ts-expect-error allow is required
    route({ method: 'GET', path: '/x', action: 'x.list', handler });
    // @ts-expect-error an unknown rule
    route({ method: 'GET', path: '/x', action: 'x.list', allow: 'EVERYONE', handler });
    // @ts-expect-error SELF_OR_ADMIN reads the user_id path parameter: a params schema is required
    route({ method: 'GET', path: '/users/:user_id', action: 'u.read', allow: 'SELF_OR_ADMIN', handler });
    route({
      method: 'GET',
      path: '/measures/:id',
      action: 'm.read',
      allow: 'ASSOCIATED_SCIENTIST',
      // @ts-expect-error ASSOCIATED_SCIENTIST needs experiment_id as a number
      params: z.object({ id: z.string() }),
      handler,
    });
    route({
      method: 'GET',
      path: '/measures/:experiment_id',
      action: 'm.read',
      allow: 'ASSOCIATED_SCIENTIST',
      params: z.object({ experiment_id: z.string().transform(Number) }),
      handler: ({ actor, params }) => ({ body: [actor.id, params.experiment_id + 1] }),
    });
    route({
      method: 'GET',
      path: '/healthz',
      action: 'ops.health',
      allow: 'PUBLIC',
      // @ts-expect-error a public route has no actor
      handler: ({ actor }) => ({ body: actor.id }),
    });
  });
});
