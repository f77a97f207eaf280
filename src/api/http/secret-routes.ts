// The routes of a server's secrets: GET /servers/:httpdid/secrets (names only), PUT and DELETE /servers/:httpdid/secrets/:name.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ENV_NAME_PATTERN } from '../../core/env-names.js';
import type { ServerManager } from '../control/server-manager.js';
import type { Caller } from './auth.js';
import { ERROR_RESPONSE, ID_PARAMS } from './route-schemas.js';

/** `:httpdid` and `:name`. */
const SECRET_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['httpdid', 'name'],
  properties: {
    httpdid: ID_PARAMS.properties.httpdid,
    name: { type: 'string', pattern: ENV_NAME_PATTERN, description: 'must be a letter or _ then letters, digits or _ (at most 64)' },
  },
} as const;

type Target = (request: FastifyRequest<{ Params: { httpdid: string } }>) => Promise<[Caller, number]>;

/** Adds the secret routes to `app`; `target` resolves a route's caller and `:httpdid`. */
export function secretRoutes(app: FastifyInstance, manager: ServerManager, target: Target): void {
  app.get<{ Params: { httpdid: string } }>(
    '/servers/:httpdid/secrets',
    { schema: { params: ID_PARAMS, response: { 200: { $ref: 'https://isohttpd.local/schemas/secret-list.json#' }, '4xx': ERROR_RESPONSE } } },
    async (request) => ({ secrets: await manager.secrets(...(await target(request))) }),
  );

  app.put<{ Params: { httpdid: string; name: string }; Body: { value: string } }>(
    '/servers/:httpdid/secrets/:name',
    {
      schema: {
        params: SECRET_PARAMS,
        body: { $ref: 'https://isohttpd.local/schemas/put-secret.json#' },
        response: {
          200: { type: 'object', additionalProperties: false, required: ['name', 'updatedAt'], properties: { name: { type: 'string' }, updatedAt: { type: 'string' } } },
          '4xx': ERROR_RESPONSE,
          '5xx': ERROR_RESPONSE,
        },
      },
    },
    async (request) => manager.putSecret(...(await target(request)), request.params.name, request.body.value),
  );

  app.delete<{ Params: { httpdid: string; name: string } }>(
    '/servers/:httpdid/secrets/:name',
    { schema: { params: SECRET_PARAMS, response: { '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE } } },
    async (request, reply) => {
      await manager.removeSecret(...(await target(request)), request.params.name);
      return reply.code(204).send();
    },
  );
}
