// The OpenAPI 3 document at /docs/json (generated from the routes and schemas/) and the browsable docs at /docs.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startService } from './helpers/service.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const schemaFile = (name: string): Record<string, any> => JSON.parse(readFileSync(path.join(ROOT, 'schemas', `${name}.json`), 'utf8')) as Record<string, any>;

/** Follows a local `#/components/...` reference. */
function deref(doc: any, node: any): any {
  let n = node;
  for (let i = 0; i < 10 && typeof n?.$ref === 'string'; i++) {
    const ref: string = n.$ref;
    if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
    n = ref
      .slice(2)
      .split('/')
      .reduce((o: any, k) => o?.[k], doc);
  }
  return n;
}

/** Every `$ref` in the document. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) refs(x, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

const svc = await startService(t);

t.test('/docs/json is an OpenAPI 3 document of every route', async (t) => {
  const r = await svc.api('GET', '/docs/json');
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^application\/json/);
  const doc = r.body;
  t.match(doc.openapi, /^3\.\d+\.\d+$/, 'an OpenAPI 3 version');
  t.match(doc.info, { title: String, version: String });

  const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
    Object.keys(item)
      .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
      .map((m) => `${m.toUpperCase()} ${p}`),
  );
  for (const op of ['GET /healthz', 'POST /servers', 'GET /servers', 'GET /servers/{httpdid}', 'DELETE /servers/{httpdid}', 'GET /servers/{httpdid}/logs']) {
    t.ok(ops.includes(op), `${op} is documented`);
  }
  t.notOk(
    ops.some((op) => op.includes('/docs')),
    'the docs routes themselves are not in the document',
  );

  // Every reference resolves inside the document: the schemas/ files are components, not URLs.
  for (const ref of refs(doc)) {
    t.match(ref, /^#\/components\/schemas\/[a-z-]+$/, `${ref} is local`);
    t.ok(deref(doc, { $ref: ref }), `${ref} resolves`);
  }
  const schemas = doc.components.schemas as Record<string, any>;
  for (const name of ['create-server', 'server', 'error', 'limits']) t.ok(schemas[name], `components.schemas.${name}`);
  t.notOk(JSON.stringify(schemas).includes('"$schema"'), 'no $schema keyword inside OpenAPI schema objects');

  // The create-server body is schemas/create-server.json: same properties, required fields and limits.
  const body = deref(doc, doc.paths['/servers'].post.requestBody.content['application/json'].schema);
  const file = schemaFile('create-server');
  t.same(Object.keys(body.properties).sort(), Object.keys(file['properties']).sort(), 'the same properties as schemas/create-server.json');
  t.same(body.required, file['required']);
  t.equal(body.additionalProperties, false);
  t.same(body.properties.port, file['properties'].port, 'property schemas with their descriptions and bounds');
  const limits = deref(doc, body.properties.limits);
  t.same(Object.keys(limits.properties).sort(), Object.keys(schemaFile('limits')['properties']).sort(), 'limits resolve to schemas/limits.json');
  t.equal(limits.properties.memoryMb.default, 64);

  const created = doc.paths['/servers'].post.responses['201'].content['application/json'].schema;
  t.same(Object.keys(deref(doc, created).properties).sort(), Object.keys(schemaFile('server')['properties']).sort(), '201 is schemas/server.json');
  const notFound = doc.paths['/servers/{httpdid}'].get.responses['404'].content['application/json'].schema;
  t.ok(deref(doc, notFound).properties.error, 'errors are shaped as schemas/error.json');
  const idParam = (doc.paths['/servers/{httpdid}'].get.parameters as Array<{ in: string; name: string; required: boolean }>).find((p) => p.in === 'path');
  t.match(idParam, { name: 'httpdid', required: true });

  t.match(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' }, 'bearer auth is declared');
  t.same(doc.security, [{ bearerAuth: [] }], 'and required by default');
  t.same(doc.paths['/healthz'].get.security, [], 'except for /healthz');
  t.match(doc.paths['/servers'].post.summary, /Deploy/, 'operations have summaries');

  t.equal((await svc.api('GET', '/docs/json')).status, 200, 'a second request (cached document) answers too');
  // The schemas fastify validates with were not changed by generating the document.
  const bad = await svc.api('POST', '/servers', { host: '127.0.0.1', port: 'x', source: 'export default () => 1' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.message, 'body.port must be an integer');
});

t.test('/docs is a browsable HTML page', async (t) => {
  const res = await fetch(`${svc.url}/docs`, { redirect: 'follow' });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  t.match(await res.text(), /<html[\s\S]*swagger-ui/i);
  const init = await fetch(`${svc.url}/docs/static/swagger-initializer.js`);
  t.equal(init.status, 200);
  t.match(await init.text(), /\.\/json|docs\/json/, 'the page loads the document');
});
