// Request ids: every control-API request gets one (the client's `x-request-id` when it is a sane token, else a fresh UUID), logged as `reqId` and echoed in the answer.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { isSaneRequestId, REQUEST_ID_HEADER } from '../../core/request-id.js';

export { REQUEST_ID_HEADER } from '../../core/request-id.js';

/** The id of a request: the client's `x-request-id` if valid, else a random UUID. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && isSaneRequestId(given) ? given : randomUUID();
}

/**
 * fastify constructor options for request ids: fastify's own header handling is off (it would
 * take any value), {@link requestId} decides; pino logs the id as `reqId` (fastify's default label).
 */
export const REQUEST_ID_OPTIONS = Object.freeze({
  requestIdHeader: false,
  genReqId: requestId,
} as const);

/** Answers every request (errors and 404s included) with its id in `x-request-id`. */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}
