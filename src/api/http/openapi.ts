// The OpenAPI 3 document of the control API, generated from the route schemas and schemas/ (@fastify/swagger), browsable at /docs (@fastify/swagger-ui).

import { fastifySwagger } from '@fastify/swagger';
import { fastifySwaggerUi } from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { completeOperations, TAGS } from './openapi-responses.js';

/** Where the browsable documentation is served; `${DOCS_PREFIX}/json` is the document itself. */
export const DOCS_PREFIX = '/docs';

/** Prefix of the `$id` of every schema in schemas/. */
const SCHEMA_ID_PREFIX = 'https://isohttpd.local/schemas/';

/**
 * The component name of a shared schema: `create-server` for `https://isohttpd.local/schemas/create-server.json`,
 * so the document refers to `#/components/schemas/create-server` rather than copying the schema into every route.
 */
function componentName(json: { $id?: unknown }, i: number): string {
  const id = typeof json.$id === 'string' ? json.$id : '';
  if (id.startsWith(SCHEMA_ID_PREFIX)) return id.slice(SCHEMA_ID_PREFIX.length).replace(/\.json#?$/, '');
  return `def-${i}`;
}

/** Summaries of the operations, by `METHOD url` (routes not listed are documented without one). */
const SUMMARIES: Readonly<Record<string, string>> = {
  'GET /healthz': 'Liveness: {ok: true}',
  'POST /servers': 'Deploy a handler on (host, port); 201 once every replica accepts connections',
  'GET /servers': 'List your servers, in httpdid order',
  'GET /servers/:httpdid': 'One server with its limits and stats (?source=1 adds the source)',
  'PUT /servers/:httpdid': 'Hot redeploy: new source and/or limits; 422 keeps the old version serving',
  'DELETE /servers/:httpdid': 'Stop a server; 204 once its port is released',
  'GET /servers/:httpdid/logs': "The handler's last console lines; ?follow=1 streams them, then new ones, as NDJSON until the server is deleted",
  'GET /servers/:httpdid/tail': 'Every request as it is answered, with its console lines, filtered; NDJSON until the server is deleted',
  'GET /servers/:httpdid/versions': 'The kept versions, newest first (?source=1 adds their sources)',
  'POST /servers/:httpdid/rollback': 'Hot redeploy of a kept version as a new version',
  'POST /servers/:httpdid/restart': 'Bring a failed server back on its address with its current version',
  'GET /servers/:httpdid/secrets': "The server's secrets by name (never a value)",
  'PUT /servers/:httpdid/secrets/:name': 'Write a secret (sealed at rest) and redeploy the serving version with it',
  'DELETE /servers/:httpdid/secrets/:name': 'Delete a secret and redeploy the serving version without it',
  'GET /metrics': 'Prometheus metrics',
  'GET /cluster': 'Cluster mode: this node, whether it leads, and every node with its liveness (404 on a single node)',
};

/** Operations that need no token (liveness, metrics, the cluster's nodes), documented with `security: []`. */
const PUBLIC = new Set(['GET /healthz', 'GET /metrics', 'GET /cluster']);

/** A `$ref` to one of schemas/ (absolute, or relative like `limits.json` inside create-server.json). */
const SCHEMA_REF = /^(?:https:\/\/isohttpd\.local\/schemas\/)?([a-z][a-z-]*)\.json#?$/;

/**
 * In place (on a copy of the document): removes the JSON Schema keywords OpenAPI 3.0 schema
 * objects do not allow (`$schema`, `$id`; `propertyNames`, said in the description instead), and points the `$ref`s between files of schemas/
 * (which the resolver leaves as written) at their components.
 */
function tidySchemas(node: unknown, components: ReadonlySet<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) tidySchemas(item, components);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  delete obj['$schema'];
  delete obj['$id'];
  // OpenAPI 3.0 schema objects have no propertyNames: the rule on names goes into the description.
  const names = obj['propertyNames'] as { pattern?: unknown; description?: unknown } | undefined;
  if (names !== undefined) {
    delete obj['propertyNames'];
    const rule = typeof names.pattern === 'string' ? `names match ${names.pattern}` : typeof names.description === 'string' ? `names ${names.description}` : '';
    if (rule !== '') obj['description'] = typeof obj['description'] === 'string' ? `${obj['description']} (${rule})` : rule;
  }
  const ref = obj['$ref'];
  const name = typeof ref === 'string' ? SCHEMA_REF.exec(ref)?.[1] : undefined;
  if (name !== undefined && components.has(name)) obj['$ref'] = `#/components/schemas/${name}`;
  for (const value of Object.values(obj)) tidySchemas(value, components);
}

/**
 * Registers the OpenAPI generator and the documentation UI. Call it before any route is added,
 * so every route is in the document. The document declares bearer authentication for every
 * operation (tokens come from `isohttpd tenant add`); `/docs*` itself is not in the document.
 */
export function registerOpenApi(app: FastifyInstance): void {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  // Called directly rather than through app.register(): a registered plugin only loads at
  // ready(), after buildApp has added the routes, and its onRoute hook would miss them all.
  fastifySwagger(
    app,
    {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'isohttpd control API',
          description:
            "Deploy JavaScript HTTP handlers that run in isolated-vm isolates behind isohttpd's own HTTP/1.x codec. " +
            'Every error is `{"error": {"code", "message"}}` with a stable code (src/core/errors.ts).',
          version,
        },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'A tenant token from `isohttpd tenant add NAME`. Optional when the service runs its open loopback `default` tenant.' },
          },
        },
        security: [{ bearerAuth: [] }],
        tags: [...TAGS],
      },
      transform: ({ schema, url, route }) => {
        const op = `${String(route.method)} ${route.url}`;
        const summary = SUMMARIES[op];
        return { schema: { ...schema, ...(summary === undefined ? {} : { summary }), ...(PUBLIC.has(op) ? { security: [] } : {}) }, url };
      },
      // clone: the schemas fastify validates with are never changed by the resolver.
      refResolver: { clone: true, buildLocalReference: (json, _baseUri, _fragment, i) => componentName(json, i) },
      transformObject: (documentObject) => {
        const doc = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
        const copy = JSON.parse(JSON.stringify(doc)) as typeof doc;
        const components = (copy as { components?: { schemas?: Record<string, unknown> } }).components?.schemas ?? {};
        tidySchemas(copy, new Set(Object.keys(components)));
        completeOperations((copy as { paths?: Record<string, Record<string, object>> }).paths ?? {});
        return copy;
      },
    },
    (err) => {
      if (err !== undefined) throw err;
    },
  );
  // Through a plain plugin: swagger-ui declares a dependency on @fastify/swagger's registered
  // name, which the direct call above does not leave; the `swagger` decorator it uses is there.
  void app.register(async (docs) => {
    // @ts-expect-error its types declare a callback plugin, but the implementation is async (two parameters, a promise)
    // deepLinking: /docs#/TAG/OPERATION opens that operation (its statuses, codes and examples).
    await fastifySwaggerUi(docs, { routePrefix: DOCS_PREFIX, uiConfig: { deepLinking: true, docExpansion: 'list' } });
  });
}
