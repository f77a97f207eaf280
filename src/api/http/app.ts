// The control API (fastify): routes, schema validation from schemas/, and the one error format.

import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { errorBody, IsoError } from '../../core/errors.js';
import { AJV_OPTIONS, allSchemas, formatAjvError } from '../../core/schemas.js';
import type { CreateRequest, ServerManager, UpdateRequest } from '../control/server-manager.js';
import { versionView } from '../control/views.js';
import type { Registry } from '../registry/registry.js';
import { authenticate, type Caller } from './auth.js';
import { consoleFollowing } from './logs-follow.js';
import { tailFollowing } from './tail-follow.js';
import { createMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { echoRequestId, REQUEST_ID_OPTIONS } from './request-id.js';
import { CLUSTER_RESPONSE, ERROR_RESPONSE, ID_PARAMS, SERVER_RESPONSE } from './route-schemas.js';
import { logRoutes } from './route-log.js';
import { secretRoutes } from './secret-routes.js';

/** Options of {@link buildApp}. */
export interface AppOptions {
  readonly manager: ServerManager;
  /** Largest API request body, bytes (the source limit plus room for the JSON around it). */
  readonly bodyLimit: number;
  /** pino logger options, or false for none. */
  readonly logger: boolean | { level: string };
  /** Where bearer tokens are looked up (per request). */
  readonly registry: Registry;
  /** Whether the open `default` tenant applies while no tenant exists (only for a loopback API). */
  readonly openTenant: boolean;
  /** Requests per token per window (config `rateLimit`). */
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
}

/** Paths served without a token and without the rate limit. */
const PUBLIC_PATH = /^\/(?:healthz|metrics|docs|cluster)(?:[/?]|$)/;

const callers = new WeakMap<FastifyRequest, Caller>();

/** The tenant an authenticated API request acts for (set by the auth hook). @throws IsoError 401 outside one. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (caller === undefined) throw new IsoError('ISO_ERR_API_UNAUTHORIZED');
  return caller;
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
  logRoutes(app, process.env['ISOHTTPD_ROUTE_LOG']);
  registerOpenApi(app);
  // JSON in and out: any other body type is 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  const { manager } = opts;
  /** The caller and the httpdid of the caller's server that the route's `:httpdid` names (an httpdid or a name). @throws IsoError 401, 404. */
  const target = async (request: FastifyRequest<{ Params: { httpdid: string } }>): Promise<[Caller, number]> => {
    const caller = callerOf(request);
    return [caller, await manager.httpdidOf(caller, request.params.httpdid)];
  };
  /** A change's status: 202 in cluster mode while a placed node does not serve it yet (see docs/scale-out.md), else `done`. */
  const settled = (view: object, done: number): number => ('cluster' in view && !(view.cluster as { ready: boolean }).ready ? 202 : done);

  // Rate limit per token (hashed), or per client address without one; then authentication. Both as
  // root hooks so that they cover every route, whenever it is added.
  void app.register(rateLimit, { global: false });
  let limiter: ReturnType<FastifyInstance['rateLimit']> | undefined;
  app.addHook('onRequest', async function (request, reply) {
    if (PUBLIC_PATH.test(request.url)) return;
    limiter ??= app.rateLimit({
      max: opts.rateLimit.max,
      timeWindow: opts.rateLimit.timeWindowMs,
      keyGenerator: (req) => {
        const auth = req.headers.authorization;
        return auth === undefined ? `ip:${req.ip}` : `token:${createHash('sha256').update(auth).digest('hex')}`;
      },
      errorResponseBuilder: (_req, ctx) => new IsoError('ISO_ERR_API_RATE_LIMITED', `more than ${ctx.max} API requests in ${opts.rateLimit.timeWindowMs} ms with this token; retry in ${ctx.after}`),
    });
    await limiter.call(this, request, reply);
  });
  app.addHook('onRequest', async (request) => {
    if (PUBLIC_PATH.test(request.url)) return;
    callers.set(request, await authenticate(opts.registry, request.headers.authorization, opts.openTenant));
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof IsoError) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      if (err.code === 'ISO_ERR_API_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer realm="isohttpd"');
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

  app.post<{ Body: CreateRequest }>(
    '/servers',
    {
      schema: {
        body: { $ref: 'https://isohttpd.local/schemas/create-server.json#' },
        response: { 201: SERVER_RESPONSE, 202: SERVER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE },
      },
    },
    async (request, reply) => {
      const view = await manager.create(callerOf(request), request.body);
      return reply.code(settled(view, 201)).header('location', `/servers/${view.httpdid}`).send(view);
    },
  );

  app.get(
    '/servers',
    {
      schema: { response: { 200: { type: 'object', properties: { servers: { type: 'array', items: SERVER_RESPONSE } } } } },
    },
    async (request) => ({ servers: await manager.list(callerOf(request)) }),
  );

  app.get<{ Params: { httpdid: string }; Querystring: { source?: '0' | '1' } }>(
    '/servers/:httpdid',
    {
      schema: {
        params: ID_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { source: { type: 'string', enum: ['0', '1'] } } },
        response: { 200: SERVER_RESPONSE, '4xx': ERROR_RESPONSE },
      },
    },
    async (request) => manager.get(...(await target(request)), request.query.source === '1'),
  );

  app.put<{ Params: { httpdid: string }; Body: UpdateRequest }>(
    '/servers/:httpdid',
    {
      schema: {
        params: ID_PARAMS,
        body: { $ref: 'https://isohttpd.local/schemas/update-server.json#' },
        response: { 200: SERVER_RESPONSE, 202: SERVER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE },
      },
    },
    async (request, reply) => {
      const view = await manager.update(...(await target(request)), request.body);
      return reply.code(settled(view, 200)).send(view);
    },
  );

  app.get<{ Params: { httpdid: string }; Querystring: { source?: '0' | '1' } }>(
    '/servers/:httpdid/versions',
    {
      schema: {
        params: ID_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { source: { type: 'string', enum: ['0', '1'], description: "1: each version's source too" } } },
        response: {
          200: {
            type: 'object',
            properties: { current: { type: 'integer' }, versions: { type: 'array', items: { $ref: 'https://isohttpd.local/schemas/server-version.json#' } } },
          },
          '4xx': ERROR_RESPONSE,
        },
      },
    },
    async (request) => {
      const { current, versions } = await manager.versions(...(await target(request)));
      return { current, versions: versions.map((v) => versionView(v, current, request.query.source === '1')) };
    },
  );

  app.post<{ Params: { httpdid: string }; Body: { version?: number } }>(
    '/servers/:httpdid/rollback',
    {
      schema: {
        params: ID_PARAMS,
        body: { $ref: 'https://isohttpd.local/schemas/rollback-server.json#' },
        response: { 200: SERVER_RESPONSE, 202: SERVER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE },
      },
    },
    async (request, reply) => {
      const view = await manager.rollback(...(await target(request)), request.body.version);
      return reply.code(settled(view, 200)).send(view);
    },
  );

  app.post<{ Params: { httpdid: string } }>(
    '/servers/:httpdid/restart',
    { schema: { params: ID_PARAMS, response: { 200: SERVER_RESPONSE, 202: SERVER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE } } },
    async (request, reply) => {
      const view = await manager.restart(...(await target(request)));
      return reply.code(settled(view, 200)).send(view);
    },
  );

  secretRoutes(app, manager, target);

  // Cluster mode: the nodes as the database knows them (not behind tenant auth, like /healthz: names and addresses only).
  app.get('/cluster', { schema: { response: { 200: CLUSTER_RESPONSE, '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE } } }, () => manager.clusterNodes());

  // Prometheus text format, computed at scrape time; not behind tenant auth.
  const metrics = createMetrics(manager);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  const followLogs = consoleFollowing(app, manager);
  app.get<{ Params: { httpdid: string }; Querystring: { follow?: '0' | '1' } }>(
    '/servers/:httpdid/logs',
    {
      schema: {
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { follow: { type: 'string', enum: ['0', '1'], description: '1: stream the entries, then new ones, as application/x-ndjson until the server is deleted' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { lines: { type: 'array', items: { $ref: 'https://isohttpd.local/schemas/log-entry.json#' } } },
          },
          '4xx': ERROR_RESPONSE,
        },
      },
    },
    async (request, reply) => {
      const [caller, httpdid] = await target(request);
      if (request.query.follow !== '1') return { lines: manager.consoleLines(caller, httpdid) };
      followLogs(caller, httpdid, reply);
      return reply;
    },
  );

  const followTail = tailFollowing(app, manager);
  app.get<{ Params: { httpdid: string }; Querystring: { status?: string; outcome?: string; search?: string; sample?: string } }>(
    '/servers/:httpdid/tail',
    {
      schema: {
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', maxLength: 200, description: 'only requests answered with these statuses: NNN or a class Nxx, separated by commas (5xx, 404, 4xx,500)' },
            outcome: { type: 'string', maxLength: 200, description: 'only requests that ended so: outcomes separated by commas (exception, timeout,memory)' },
            search: { type: 'string', maxLength: 256, description: 'only entries containing this text (case-insensitive): method, path, request id, detail, stack, console lines' },
            sample: {
              type: 'string',
              pattern: '^(?:0?\\.[0-9]{1,6}|1(?:\\.0{1,6})?)$',
              description: 'must be the fraction of requests shown: over 0 and at most 1, each drawn at random (0.1: one in ten)',
            },
          },
        },
        response: { '4xx': ERROR_RESPONSE },
      },
    },
    async (request, reply) => {
      const [caller, httpdid] = await target(request);
      const { sample, ...rest } = request.query;
      followTail(caller, httpdid, sample === undefined ? rest : { ...rest, sample: Number(sample) }, reply);
      return reply;
    },
  );

  app.delete<{ Params: { httpdid: string } }>(
    '/servers/:httpdid',
    {
      schema: { params: ID_PARAMS, response: { '4xx': ERROR_RESPONSE, '5xx': ERROR_RESPONSE } },
    },
    async (request, reply) => {
      await manager.remove(...(await target(request)));
      return reply.code(204).send();
    },
  );

  return app;
}
