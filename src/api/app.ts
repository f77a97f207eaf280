// The control API (fastify): routes, schema validation from schemas/, and the one error format.

import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { errorBody, IsoError } from '../errors.js';
import { AJV_OPTIONS, allSchemas, formatAjvError } from '../schemas.js';
import { consoleFollowing } from './logs-follow.js';
import { registerOpenApi } from './openapi.js';
import { echoRequestId, REQUEST_ID_OPTIONS } from './request-id.js';
import type { CreateRequest, ServerManager } from './server-manager.js';

const ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['httpdid'],
  properties: { httpdid: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'must be a positive integer' } },
} as const;

const ERROR_RESPONSE = { $ref: 'https://isohttpd.local/schemas/error.json#' } as const;
const SERVER_RESPONSE = { $ref: 'https://isohttpd.local/schemas/server.json#' } as const;

/** Options of {@link buildApp}. */
export interface AppOptions {
  readonly manager: ServerManager;
  /** Largest API request body, bytes (the source limit plus room for the JSON around it). */
  readonly bodyLimit: number;
  /** pino logger options, or false for none. */
  readonly logger: boolean | { level: string };
}

/** Builds the fastify instance serving the control API (not yet listening). */
export function buildApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger,
    bodyLimit: opts.bodyLimit,
    ajv: { customOptions: { ...AJV_OPTIONS } },
    return503OnClosing: true,
    ...REQUEST_ID_OPTIONS,
  });
  for (const schema of allSchemas()) app.addSchema(schema);
  echoRequestId(app);
  registerOpenApi(app);
  // JSON in and out: any other body type is 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  const { manager } = opts;

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof IsoError) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      return reply.code(err.status).send(errorBody(err.code, err.message));
    }
    if (err.validation !== undefined) {
      return reply.code(400).send(errorBody('ISO_ERR_API_BAD_REQUEST', formatAjvError(err.validation as never, err.validationContext ?? 'request')));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorBody('ISO_ERR_API_MALFORMED_JSON', `the request body is not valid JSON: ${err.message}`));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('ISO_ERR_API_BODY_TOO_LARGE', `the request body is larger than ${opts.bodyLimit} bytes`));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorBody('ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE'));
      default:
        break;
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(400).send(errorBody('ISO_ERR_API_BAD_REQUEST', err.message));
    }
    request.log.error({ err }, 'unexpected error');
    return reply.code(500).send(errorBody('ISO_ERR_API_INTERNAL'));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('ISO_ERR_API_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });

  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, () => ({ ok: true }));

  app.post<{ Body: CreateRequest }>('/servers', {
    schema: {
      body: { $ref: 'https://isohttpd.local/schemas/create-server.json#' },
      response: { 201: SERVER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE },
    },
  }, async (request, reply) => {
    const view = await manager.create(request.body);
    return reply.code(201).header('location', `/servers/${view.httpdid}`).send(view);
  });

  app.get('/servers', {
    schema: { response: { 200: { type: 'object', properties: { servers: { type: 'array', items: SERVER_RESPONSE } } } } },
  }, () => ({ servers: manager.list() }));

  app.get<{ Params: { httpdid: string }; Querystring: { source?: '0' | '1' } }>('/servers/:httpdid', {
    schema: {
      params: ID_PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { source: { type: 'string', enum: ['0', '1'] } } },
      response: { 200: SERVER_RESPONSE, '4xx': ERROR_RESPONSE },
    },
  }, (request) => manager.get(Number(request.params.httpdid), request.query.source === '1'));

  const followLogs = consoleFollowing(app, manager);
  app.get<{ Params: { httpdid: string }; Querystring: { follow?: '0' | '1' } }>('/servers/:httpdid/logs', {
    schema: {
      params: ID_PARAMS,
      querystring: { type: 'object', additionalProperties: false, properties: { follow: { type: 'string', enum: ['0', '1'], description: '1: stream the lines, then new ones, as application/x-ndjson until the server is deleted' } } },
      response: {
        200: {
          type: 'object',
          properties: { lines: { type: 'array', items: { type: 'object', properties: { time: { type: 'string' }, level: { type: 'string' }, message: { type: 'string' } } } } },
        },
        '4xx': ERROR_RESPONSE,
      },
    },
  }, (request, reply) => {
    if (request.query.follow !== '1') return { lines: manager.consoleLines(Number(request.params.httpdid)) };
    followLogs(Number(request.params.httpdid), reply);
    return undefined;
  });

  app.delete<{ Params: { httpdid: string } }>('/servers/:httpdid', {
    schema: { params: ID_PARAMS, response: { '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE } },
  }, async (request, reply) => {
    await manager.remove(Number(request.params.httpdid));
    return reply.code(204).send();
  });

  return app;
}
