// Pins the list of error codes and their statuses (changing one is a breaking change for clients), and that the README documents each and who sees it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ERRORS, errorBody, IsoError } from '../src/core/errors.js';
import { OUTCOME_ERROR, OUTCOMES } from '../src/core/outcome.js';

t.test('the error codes are stable', async (t) => {
  const pinned = Object.fromEntries(Object.entries(ERRORS).map(([code, v]) => [code, v.status]));
  t.same(pinned, {
    ISO_ERR_API_BAD_REQUEST: 400,
    ISO_ERR_API_MALFORMED_JSON: 400,
    ISO_ERR_API_UNAUTHORIZED: 401,
    ISO_ERR_API_ADDRESS_NOT_ALLOWED: 403,
    ISO_ERR_API_QUOTA: 403,
    ISO_ERR_API_NOT_FOUND: 404,
    ISO_ERR_API_ROUTE_NOT_FOUND: 404,
    ISO_ERR_API_VERSION_NOT_FOUND: 404,
    ISO_ERR_API_SECRET_NOT_FOUND: 404,
    ISO_ERR_API_ADDRESS_IN_USE: 409,
    ISO_ERR_API_SERVER_FAILED: 409,
    ISO_ERR_API_NAME_TAKEN: 409,
    ISO_ERR_API_HOSTNAME_TAKEN: 409,
    ISO_ERR_API_SERVER_RUNNING: 409,
    ISO_ERR_API_BODY_TOO_LARGE: 413,
    ISO_ERR_API_UNSUPPORTED_MEDIA_TYPE: 415,
    ISO_ERR_API_INVALID_SOURCE: 422,
    ISO_ERR_API_RATE_LIMITED: 429,
    ISO_ERR_API_INTERNAL: 500,
    ISO_ERR_API_BIND_FAILED: 500,
    ISO_ERR_API_WORKER_UNAVAILABLE: 503,
    ISO_ERR_API_REGISTRY_UNAVAILABLE: 503,
    ISO_ERR_HTTP_BAD_REQUEST: 400,
    ISO_ERR_HTTP_HEADERS_TIMEOUT: 408,
    ISO_ERR_HTTP_REQUEST_TIMEOUT: 408,
    ISO_ERR_HTTP_BODY_TOO_LARGE: 413,
    ISO_ERR_HTTP_URI_TOO_LONG: 414,
    ISO_ERR_HTTP_EXPECTATION_FAILED: 417,
    ISO_ERR_HTTP_MISDIRECTED_REQUEST: 421,
    ISO_ERR_HTTP_HEADERS_TOO_LARGE: 431,
    ISO_ERR_HTTP_NOT_IMPLEMENTED: 501,
    ISO_ERR_HTTP_TOO_MANY_CONNECTIONS: 503,
    ISO_ERR_HTTP_CPU_THROTTLED: 503,
    ISO_ERR_HTTP_VERSION_NOT_SUPPORTED: 505,
    ISO_ERR_SBX_EXCEPTION: 500,
    ISO_ERR_SBX_INVALID_RESPONSE: 500,
    ISO_ERR_SBX_CRASHED: 502,
    ISO_ERR_SBX_MEMORY: 503,
    ISO_ERR_SBX_TIMEOUT: 504,
  });
  for (const code of Object.keys(ERRORS)) t.match(code, /^ISO_ERR_(API|HTTP|SBX)_[A-Z_]+$/, `${code} is grouped`);
  t.ok(Object.isFrozen(ERRORS), 'the table is frozen');
});

t.test('outcomes: a closed union, each non-ok outcome mapped to its status', async (t) => {
  t.same([...OUTCOMES], ['ok', 'exception', 'timeout', 'memory', 'invalidResponse', 'crashed']);
  const statuses = Object.fromEntries(Object.entries(OUTCOME_ERROR).map(([o, code]) => [o, ERRORS[code].status]));
  t.same(statuses, { exception: 500, timeout: 504, memory: 503, invalidResponse: 500, crashed: 502 });
});

t.test('IsoError and errorBody', async (t) => {
  const e = new IsoError('ISO_ERR_API_NOT_FOUND', 'no server with httpdid 7');
  t.equal(e.status, 404);
  t.same(errorBody(e.code, e.message), { error: { code: 'ISO_ERR_API_NOT_FOUND', message: 'no server with httpdid 7' } });
  t.same(errorBody('ISO_ERR_API_INTERNAL'), { error: { code: 'ISO_ERR_API_INTERNAL', message: 'internal error' } });
});

t.test('the README documents every code with its status, and says which ones a client sees', async (t) => {
  const readme = readFileSync(path.resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Errors'), readme.indexOf('## Tenants: the CLI'));
  t.ok(section.length > 0, 'README has its Errors section');
  // Rows are `| status | `CODE`[, `CODE`] | when |`.
  const documented = new Map<string, number>();
  for (const m of section.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm)) {
    for (const c of (m[2] ?? '').matchAll(/`(ISO_ERR_[A-Z_]+)`/g)) documented.set(c[1] ?? '', Number(m[1]));
  }
  for (const [code, { status }] of Object.entries(ERRORS)) t.equal(documented.get(code), status, `${code} is in the README's error tables with status ${status}`);
  t.same(
    [...documented.keys()].filter((c) => !(c in ERRORS)),
    [],
    'the README names no code that does not exist',
  );
  // Which codes a client sees: the API's in the JSON body; the listeners' only as a status (the code goes to the log).
  t.match(section, /The codes above are what API clients see, as `error\.code` in the JSON body/);
  t.match(section, /the end client sees the status and a\s+short `text\/plain` message/);
  const apiTable = section.slice(0, section.indexOf('The codes above'));
  for (const code of Object.keys(ERRORS)) {
    t.equal(apiTable.includes(`\`${code}\``), code.startsWith('ISO_ERR_API_'), `${code} is ${code.startsWith('ISO_ERR_API_') ? '' : 'not '}in the API clients' table`);
  }
});
