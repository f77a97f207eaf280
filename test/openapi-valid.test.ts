// The OpenAPI document is valid OpenAPI 3 (@apidevtools/swagger-parser) and complete: every operation has a tag, its success status (204 without a body for a DELETE), each error status with the codes it can carry as an enum and a real example, NDJSON where it streams, `:httpdid` as an integer or a name, limits and outcomes as their real objects.

import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { ERRORS } from '../src/core/errors.js';
import { OPERATIONS } from '../src/api/http/openapi-responses.js';
import { startService } from './helpers/service.js';

const svc = await startService(t);
const doc = (await svc.api('GET', '/docs/json')).body;

t.test('valid OpenAPI 3', async (t) => {
  // validate() dereferences a copy: the document itself stays as served.
  const checked = await SwaggerParser.validate(structuredClone(doc));
  t.match(checked.info, { title: 'isohttpd control API' }, 'swagger-parser validates it against the OpenAPI 3.0 schema');
});

t.test('every operation: tag, statuses, codes as enums with real examples', async (t) => {
  const documented = new Set<string>();
  for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      const key = `${method.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`;
      documented.add(key);
      const spec = OPERATIONS[key];
      if (spec === undefined) {
        t.fail(`${key} is not in OPERATIONS (src/api/http/openapi-responses.ts)`);
        continue;
      }
      t.same(op.tags, [spec.tag], `${key}: tag ${spec.tag}`);
      t.ok(op.responses[String(spec.ok)], `${key}: ${spec.ok}`);
      t.notOk(op.responses['4XX'] ?? op.responses['5XX'] ?? op.responses.default, `${key}: no lumped 4XX/5XX/default`);
      for (const [status, res] of Object.entries(op.responses as Record<string, any>)) {
        t.not(res.description, 'Default Response', `${key} ${status}: described`);
        if (Number(status) < 400) continue;
        const json = res.content['application/json'];
        const codes: string[] = json.schema.properties.error.properties.code.enum;
        t.ok(codes.length > 0, `${key} ${status}: its codes as an enum`);
        for (const c of codes) {
          t.equal(ERRORS[c as keyof typeof ERRORS]?.status, Number(status), `${key} ${status}: ${c} has that status`);
          const ex = json.examples[c].value;
          t.equal(ex.error.code, c, `${key} ${status}: an example of ${c}`);
          t.ok(ex.error.message.length > 0);
        }
      }
    }
  }
  for (const key of Object.keys(OPERATIONS)) t.ok(documented.has(key), `${key} is in the document`);
  t.same(
    doc.tags.map((x: { name: string }) => x.name),
    ['servers', 'versions', 'logs and tail', 'secrets', 'service'],
    'tags per resource, described',
  );
});

t.test('204s, NDJSON, integer ids, real objects', async (t) => {
  t.same(Object.keys(doc.paths['/servers/{httpdid}'].delete.responses['204']), ['description'], 'DELETE: 204 without a body');
  t.same(Object.keys(doc.paths['/servers/{httpdid}/secrets/{name}'].delete.responses['204']), ['description']);
  const logs = doc.paths['/servers/{httpdid}/logs'].get.responses['200'].content;
  t.same(logs['application/x-ndjson'].schema, { $ref: '#/components/schemas/log-entry' }, 'logs?follow=1: NDJSON of log entries');
  t.ok(logs['application/json'], 'and the JSON answer without follow');
  t.same(doc.paths['/servers/{httpdid}/tail'].get.responses['200'].content['application/x-ndjson'].schema, { $ref: '#/components/schemas/tail-entry' }, 'tail: NDJSON of tail entries');
  const id = doc.paths['/servers/{httpdid}'].get.parameters.find((p: { name: string }) => p.name === 'httpdid');
  t.match(
    id.schema.oneOf,
    [
      { type: 'integer', minimum: 1 },
      { type: 'string', pattern: String },
    ],
    'httpdid: an integer, or a name',
  );
  const server = doc.components.schemas.server;
  t.same(server.properties.httpdid, { type: 'integer', minimum: 1 }, 'httpdid in a server is an integer');
  t.equal(server.properties.limits.$ref, '#/components/schemas/limits', 'limits: the limits object, every limit named');
  t.same(Object.keys(server.properties.stats.properties.outcomes.properties), ['ok', 'exception', 'timeout', 'memory', 'invalidResponse', 'crashed'], 'outcomes: each outcome named');
  t.equal(server.properties.stats.properties.outcomes.additionalProperties, false);
});
