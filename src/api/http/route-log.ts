// For the tests of the API reference: with ISOHTTPD_ROUTE_LOG set, every answer of a route is appended to that file as `METHOD /route/:param STATUS`, so that a test can check that each one it observed is in the OpenAPI document.

import { appendFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * Appends `METHOD ROUTE STATUS` lines to `file` (nothing when it is undefined or empty): only
 * answers of a known route, and none while the app is closing (fastify's own 503s then).
 */
export function logRoutes(app: FastifyInstance, file: string | undefined): void {
  if (file === undefined || file === '') return;
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (!closing && route !== undefined) {
      try {
        appendFileSync(file, `${request.method} ${route} ${reply.statusCode}\n`);
      } catch {
        // a test's log file gone: nothing to record into
      }
    }
    done();
  });
}
