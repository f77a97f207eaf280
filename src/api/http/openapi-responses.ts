// The answers of each control-API operation as the OpenAPI document lists them: every status it can return, with its schema, the error codes it can carry (an enum) and a real example; its tag; NDJSON where it streams.

import { ERRORS, type ErrorCode } from '../../core/errors.js';

/** An operation, `METHOD /path/:param` as fastify names its route. */
type Operation = string;

/** What a client is told, by code: a message the API really answers with (the examples of the document). */
const EXAMPLES: Readonly<Partial<Record<ErrorCode, string>>> = {
  ISO_ERR_API_BAD_REQUEST: 'body.port must be an integer',
  ISO_ERR_API_MALFORMED_JSON: 'the request body is not valid JSON: Unexpected end of JSON input',
  ISO_ERR_API_UNAUTHORIZED: 'a valid bearer token is required',
  ISO_ERR_API_ADDRESS_NOT_ALLOWED: 'port 5432 is reserved (reserved ports: 5432, 6379)',
  ISO_ERR_API_QUOTA: 'tenant "acme" is at its quota of 100 servers (maxServers)',
  ISO_ERR_API_NOT_FOUND: 'no server with httpdid 9',
  ISO_ERR_API_ROUTE_NOT_FOUND: 'no route GET /nope',
  ISO_ERR_API_VERSION_NOT_FOUND: 'server 3 keeps no version 1 (kept: 12, 11, 10)',
  ISO_ERR_API_SECRET_NOT_FOUND: 'server 3 has no secret "API_KEY"',
  ISO_ERR_API_ADDRESS_IN_USE: '127.0.0.1:8080 is already in use',
  ISO_ERR_API_SERVER_FAILED: 'server 3 has failed (crashed its worker 6 times); restart it first (POST /servers/3/restart, or isohttpd restart)',
  ISO_ERR_API_NAME_TAKEN: 'you have a server named "hello" already; deploy to it with PUT /servers/hello',
  ISO_ERR_API_HOSTNAME_TAKEN: 'hostname "*.example.com" covers a name another tenant claims on 127.0.0.1 port 8080',
  ISO_ERR_API_SERVER_RUNNING: 'server 3 is running; restart is for a failed server (a redeploy is PUT)',
  ISO_ERR_API_BODY_TOO_LARGE: 'body.source is 2097152 bytes; at most 1048576 are allowed',
  ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE: 'the request body must be application/json',
  ISO_ERR_API_INVALID_SOURCE: "SyntaxError: Unexpected identifier 'headers' at line 2, column 47",
  ISO_ERR_API_RATE_LIMITED: 'more than 6000 API requests in 60000 ms with this token; retry in 12 seconds',
  ISO_ERR_API_INTERNAL: 'internal error',
  ISO_ERR_API_BIND_FAILED: 'the address could not be bound: EACCES',
  ISO_ERR_API_WORKER_UNAVAILABLE: 'the sandbox worker did not answer in time',
  ISO_ERR_API_REGISTRY_UNAVAILABLE: 'the registry database cannot be reached (connect ECONNREFUSED 127.0.0.1:5432); retry later',
};

const AUTH: readonly ErrorCode[] = ['ISO_ERR_API_UNAUTHORIZED', 'ISO_ERR_API_RATE_LIMITED', 'ISO_ERR_API_INTERNAL', 'ISO_ERR_API_REGISTRY_UNAVAILABLE'];
const PARAM: readonly ErrorCode[] = ['ISO_ERR_API_BAD_REQUEST', 'ISO_ERR_API_NOT_FOUND'];
const BODY: readonly ErrorCode[] = ['ISO_ERR_API_BAD_REQUEST', 'ISO_ERR_API_MALFORMED_JSON', 'ISO_ERR_API_BODY_TOO_LARGE', 'ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE'];
const DEPLOY: readonly ErrorCode[] = ['ISO_ERR_API_INVALID_SOURCE', 'ISO_ERR_API_WORKER_UNAVAILABLE'];

/** Each operation: its tag, its success status, and the error codes it can answer with (by code; statuses follow from src/core/errors.ts). */
export const OPERATIONS: Readonly<Record<Operation, { readonly tag: string; readonly ok: number; readonly accepted?: true; readonly errors: readonly ErrorCode[] }>> = {
  'POST /servers': {
    tag: 'servers',
    ok: 201,
    accepted: true,
    errors: [
      ...AUTH,
      ...BODY,
      'ISO_ERR_API_ADDRESS_NOT_ALLOWED',
      'ISO_ERR_API_QUOTA',
      'ISO_ERR_API_ADDRESS_IN_USE',
      'ISO_ERR_API_NAME_TAKEN',
      'ISO_ERR_API_HOSTNAME_TAKEN',
      'ISO_ERR_API_BIND_FAILED',
      ...DEPLOY,
    ],
  },
  'GET /servers': { tag: 'servers', ok: 200, errors: AUTH },
  'GET /servers/:httpdid': { tag: 'servers', ok: 200, errors: [...AUTH, ...PARAM] },
  'PUT /servers/:httpdid': { tag: 'servers', ok: 200, accepted: true, errors: [...AUTH, ...PARAM, ...BODY, 'ISO_ERR_API_QUOTA', 'ISO_ERR_API_SERVER_FAILED', ...DEPLOY] },
  'DELETE /servers/:httpdid': { tag: 'servers', ok: 204, errors: [...AUTH, ...PARAM] },
  'POST /servers/:httpdid/restart': {
    tag: 'servers',
    ok: 200,
    accepted: true,
    errors: [
      ...AUTH,
      ...PARAM,
      'ISO_ERR_API_ADDRESS_NOT_ALLOWED',
      'ISO_ERR_API_QUOTA',
      'ISO_ERR_API_SERVER_RUNNING',
      'ISO_ERR_API_ADDRESS_IN_USE',
      'ISO_ERR_API_HOSTNAME_TAKEN',
      'ISO_ERR_API_BIND_FAILED',
      ...DEPLOY,
    ],
  },
  'GET /servers/:httpdid/versions': { tag: 'versions', ok: 200, errors: [...AUTH, ...PARAM] },
  'POST /servers/:httpdid/rollback': {
    tag: 'versions',
    ok: 200,
    accepted: true,
    errors: [...AUTH, ...PARAM, ...BODY, 'ISO_ERR_API_VERSION_NOT_FOUND', 'ISO_ERR_API_QUOTA', 'ISO_ERR_API_SERVER_FAILED', ...DEPLOY],
  },
  'GET /servers/:httpdid/logs': { tag: 'logs and tail', ok: 200, errors: [...AUTH, ...PARAM] },
  'GET /servers/:httpdid/tail': { tag: 'logs and tail', ok: 200, errors: [...AUTH, ...PARAM] },
  'GET /servers/:httpdid/secrets': { tag: 'secrets', ok: 200, errors: [...AUTH, ...PARAM] },
  'PUT /servers/:httpdid/secrets/:name': { tag: 'secrets', ok: 200, errors: [...AUTH, ...PARAM, ...BODY, 'ISO_ERR_API_QUOTA', ...DEPLOY] },
  'DELETE /servers/:httpdid/secrets/:name': { tag: 'secrets', ok: 204, errors: [...AUTH, ...PARAM, 'ISO_ERR_API_SECRET_NOT_FOUND', ...DEPLOY] },
  'GET /healthz': { tag: 'service', ok: 200, errors: [] },
  'GET /metrics': { tag: 'service', ok: 200, errors: [] },
  'GET /cluster': { tag: 'service', ok: 200, errors: ['ISO_ERR_API_ROUTE_NOT_FOUND', 'ISO_ERR_API_REGISTRY_UNAVAILABLE'] },
};

/** The tags, in the order the document shows them, with what each groups. */
export const TAGS: ReadonlyArray<{ readonly name: string; readonly description: string }> = [
  { name: 'servers', description: "Deploy, list, show, hot-redeploy, restart and delete your servers. `:httpdid` is a server's httpdid (an integer) or its name." },
  { name: 'versions', description: 'The kept versions of a server and rollback.' },
  { name: 'logs and tail', description: "A server's log (console lines, failed requests) and its tail (every request as it is answered), as JSON or NDJSON streams." },
  { name: 'secrets', description: "A server's secrets: write-only, listed by name, encrypted at rest; each change redeploys the serving version." },
  { name: 'service', description: "Liveness, Prometheus metrics and the cluster's nodes (no token needed)." },
];

/** Streaming answers: the media type and the schema of one line, by operation. */
const STREAMS: Readonly<Record<Operation, { readonly line: string; readonly when: string }>> = {
  'GET /servers/:httpdid/logs': {
    line: 'log-entry',
    when: 'with ?follow=1: each entry, then new ones, one JSON object per line, until the server is deleted or the service stops (the last line is {"end": "deleted" | "stopping", "time"}; {"dropped": N, "time"} where lines were dropped; empty lines are keep-alives)',
  },
  'GET /servers/:httpdid/tail': {
    line: 'tail-entry',
    when: 'each request as it is answered, one JSON object per line, until the server is deleted or the service stops (last line {"end": …}; {"dropped": N} where entries were dropped; empty lines are keep-alives)',
  },
};

/** The error answer schema, with `code` narrowed to `codes`. */
function errorSchema(codes: readonly ErrorCode[]): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: [...codes], description: 'A stable code (src/core/errors.ts).' }, message: { type: 'string' } },
      },
    },
  };
}

interface OpenApiOperation {
  tags?: string[];
  parameters?: Array<{ in?: string; name?: string; schema?: Record<string, unknown>; description?: string }>;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown; example?: unknown; examples?: unknown }> }>;
}

/** `/servers/{httpdid}` as fastify's `/servers/:httpdid`. */
function routeOf(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * In place: gives each operation of `paths` its tag, its complete answers (the success status, a
 * 204 without a body, each error status with the codes it can carry as an enum and a real example,
 * the NDJSON of a stream), and `:httpdid` as an integer or a name.
 */
export function completeOperations(paths: Record<string, Record<string, OpenApiOperation>>): void {
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${routeOf(path)}`;
      const spec = OPERATIONS[key];
      if (spec === undefined) continue;
      op.tags = [spec.tag];
      const responses: NonNullable<OpenApiOperation['responses']> = {};
      const generated = op.responses ?? {};
      const success = generated[String(spec.ok)];
      if (spec.ok === 204) responses['204'] = { description: key.startsWith('DELETE /servers/:httpdid/secrets') ? 'Deleted: the serving version runs without it' : 'Deleted: the port is released' };
      else if (success !== undefined)
        responses[String(spec.ok)] = { ...success, description: success.description === 'Default Response' || success.description === undefined ? 'OK' : success.description };
      else responses[String(spec.ok)] = { description: 'OK' };
      const accepted = generated['202'];
      if (spec.accepted === true)
        responses['202'] = {
          ...(accepted ?? {}),
          description:
            'Cluster mode only: committed, but a placed node did not report it served within cluster.readyWaitMs; the body is the server with cluster.ready false (poll GET /servers/:httpdid)',
        };
      const stream = STREAMS[key];
      const ok = responses[String(spec.ok)];
      if (stream !== undefined && ok !== undefined) {
        ok.content = { ...(ok.content ?? {}), 'application/x-ndjson': { schema: { $ref: `#/components/schemas/${stream.line}` } } };
        ok.description = `${ok.description ?? 'OK'}; application/x-ndjson ${stream.when}`;
      }
      const byStatus = new Map<number, ErrorCode[]>();
      for (const code of new Set(spec.errors)) {
        const { status } = ERRORS[code];
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      }
      for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
        const examples = Object.fromEntries(codes.map((c) => [c, { summary: ERRORS[c].message, value: { error: { code: c, message: EXAMPLES[c] ?? ERRORS[c].message } } }]));
        responses[String(status)] = {
          description: codes.map((c) => `${c}: ${ERRORS[c].message}`).join('; '),
          content: { 'application/json': { schema: errorSchema(codes), examples } },
        };
      }
      op.responses = responses;
      for (const p of op.parameters ?? []) {
        if (p.in === 'path' && p.name === 'httpdid') {
          p.schema = {
            oneOf: [
              { type: 'integer', minimum: 1, maximum: 999999999999999 },
              { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
            ],
          };
          p.description = "the server's httpdid (a positive integer) or its name (a DNS label that starts with a letter)";
        }
      }
    }
  }
}
