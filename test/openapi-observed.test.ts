// Every route and status the tests observe is in the OpenAPI document: this test drives each route through its success and its usual errors, and then checks every `METHOD ROUTE STATUS` the services started by tests recorded (its own, and those of any test run before it in the last hours) against /docs/json.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { freePort, ROUTE_LOG_DIR, startService } from './helpers/service.js';

const HANDLER = "export default (request, env) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'ok' });";
/** Logs older than this are from another checkout's run, ms. */
const RECENT_MS = 3 * 3600_000;

const svc = await startService(t);

t.test('each route, its success and its usual errors', async (t) => {
  const port = await freePort();
  const shared = await freePort();
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/healthz'],
    ['GET', '/metrics'],
    ['POST', '/servers', { name: 'obs', host: '127.0.0.1', port, source: HANDLER }],
    ['POST', '/servers', { name: 'obs', host: '127.0.0.1', port, source: HANDLER }],
    ['POST', '/servers', { host: '127.0.0.1', port: 'x', source: HANDLER }],
    ['POST', '/servers', { host: '10.1.2.3', port, source: HANDLER }],
    ['POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: 'export default 1' }],
    ['POST', '/servers', '{"host":'],
    ['POST', '/servers', { name: 'vh', host: '127.0.0.1', port: shared, hostnames: ['a.example'], source: HANDLER }],
    ['POST', '/servers', { host: '127.0.0.1', port: shared, hostnames: ['A.example'], source: HANDLER }],
    ['POST', '/servers', { host: '127.0.0.1', port: shared, hostnames: ['*.com'], source: HANDLER }],
    ['DELETE', '/servers/vh'],
    ['GET', '/servers'],
    ['GET', '/servers/obs'],
    ['GET', '/servers/nosuch'],
    ['GET', '/servers/Bad_Name'],
    ['PUT', '/servers/obs', { source: `${HANDLER}\n// v2` }],
    ['PUT', '/servers/obs', { source: 'export default (' }],
    ['PUT', '/servers/obs', {}],
    ['GET', '/servers/obs/versions'],
    ['POST', '/servers/obs/rollback', {}],
    ['POST', '/servers/obs/rollback', { version: 99 }],
    ['POST', '/servers/obs/restart'],
    ['GET', '/servers/obs/logs'],
    ['GET', '/servers/obs/logs?follow=maybe'],
    ['GET', '/servers/obs/tail?status=9xx'],
    ['GET', '/servers/obs/secrets'],
    ['PUT', '/servers/obs/secrets/KEY', { value: 'v' }],
    ['PUT', '/servers/obs/secrets/KEY', { value: '' }],
    ['DELETE', '/servers/obs/secrets/KEY'],
    ['DELETE', '/servers/obs/secrets/KEY'],
    ['DELETE', '/servers/obs'],
    ['DELETE', '/servers/obs'],
  ];
  const statuses: string[] = [];
  for (const [method, url, body] of calls) {
    const r = await svc.api(method, url, body);
    statuses.push(`${method} ${url} ${r.status}`);
  }
  // A sample of what they answered, so a change in the routes shows here too.
  t.match(statuses.join('\n'), /POST \/servers 201\nPOST \/servers 409\nPOST \/servers 400\nPOST \/servers 403\nPOST \/servers 422\nPOST \/servers 400/);
  t.match(statuses.join('\n'), /POST \/servers 400\nPOST \/servers 201\nPOST \/servers 409\nPOST \/servers 400\nDELETE \/servers\/vh 204/, 'virtual hosts: created, a name taken, a bad name');
  t.match(statuses.join('\n'), /DELETE \/servers\/obs\/secrets\/KEY 204\nDELETE \/servers\/obs\/secrets\/KEY 404\nDELETE \/servers\/obs 204\nDELETE \/servers\/obs 404/);
});

t.test('every observed route and status is documented', async (t) => {
  const doc = (await svc.api('GET', '/docs/json')).body as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  const documented = (method: string, route: string, status: string): boolean => {
    const p = route.replace(/:([A-Za-z]+)/g, '{$1}');
    return doc.paths[p]?.[method.toLowerCase()]?.responses[status] !== undefined;
  };
  const seen = new Set<string>();
  const now = Date.now();
  for (const f of readdirSync(ROUTE_LOG_DIR)) {
    const file = path.join(ROUTE_LOG_DIR, f);
    if (now - statSync(file).mtimeMs > RECENT_MS) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [method, route, status] = line.split(' ');
      // The docs pages themselves are not in the document; HEAD is GET's (fastify's automatic HEAD routes).
      if (method === undefined || route === undefined || status === undefined || route.startsWith('/docs') || method === 'HEAD') continue;
      seen.add(`${method} ${route} ${status}`);
    }
  }
  t.ok(seen.size >= 25, `${seen.size} distinct route answers observed`);
  for (const s of [...seen].sort()) {
    const [method, route, status] = s.split(' ') as [string, string, string];
    t.ok(documented(method, route, status), `${s} is documented`);
  }
});
