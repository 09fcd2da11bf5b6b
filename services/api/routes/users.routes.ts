import type { UserService } from '../domain/users.service';
import { route } from '../http/route';
import { z } from 'zod';
import { userResponse } from './responses';
import type { RouteDefinition } from '../http/route';
import { userJson } from './presenters';
import { createUserBody, noQuery, updateUserBody, userParams } from './schemas';

export function usersRoutes(users: UserService): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/me',
      action: 'me.read',
      allow: 'ANY_USER',
      summary: 'The signed-in user (any role): id, name, e-mail, username and role',
      description: 'Lets a client learn the role held in the database without probing admin routes.',
      response: userResponse,
      query: noQuery,
      handler: async ({ actor }) => ({ body: userJson(await users.get(actor.id)) }),
    }),
    route({
      method: 'GET',
      path: '/users',
      action: 'users.list',
      allow: ['ADMIN'],
      summary: 'List active users',
      response: z.array(userResponse),
      query: noQuery,
      handler: async () => ({ body: (await users.list()).map(userJson) }),
    }),
    route({
      method: 'POST',
      path: '/users',
      action: 'user.create',
      allow: ['ADMIN'],
      summary: 'Create a user (username is the Firebase uid)',
      response: userResponse,
      query: noQuery,
      body: createUserBody,
      status: 201,
      handler: async ({ actor, meta, body }) => {
        const u = await users.create(actor, meta, {
          id: body.user_id,
          name: body.name,
          username: body.username,
          email: body.email,
          role: body.role,
        });
        return { body: userJson(u), headers: { Location: `/users/${encodeURIComponent(u.id)}` } };
      },
    }),
    route({
      method: 'GET',
      path: '/users/:user_id',
      action: 'user.read',
      allow: 'SELF_OR_ADMIN',
      summary: 'One user',
      response: userResponse,
      params: userParams,
      query: noQuery,
      target: { type: 'user', param: 'user_id' },
      handler: async ({ params }) => ({ body: userJson(await users.get(params.user_id)) }),
    }),
    route({
      method: 'PUT',
      path: '/users/:user_id',
      action: 'user.update',
      allow: 'SELF_OR_ADMIN',
      summary: 'Update name, e-mail and (ADMIN only) username',
      response: userResponse,
      params: userParams,
      query: noQuery,
      body: updateUserBody,
      target: { type: 'user', param: 'user_id' },
      handler: async ({ actor, meta, params, body }) => ({
        body: userJson(await users.update(actor, meta, params.user_id, body)),
      }),
    }),
    route({
      method: 'DELETE',
      path: '/users/:user_id',
      action: 'user.erase',
      allow: ['ADMIN'],
      summary: 'Erase a user (GDPR): personal fields anonymised, associations removed, id and audit kept',
      params: userParams,
      query: noQuery,
      target: { type: 'user', param: 'user_id' },
      handler: async ({ actor, meta, params }) => {
        await users.erase(actor, meta, params.user_id);
        return { status: 204 };
      },
    }),
  ];
}
