// GET /servers/:httpdid/tail: one entry per request as it is answered (time, request id, method, path, status, outcome, duration, bytes), the console lines its handler wrote inside it, an exception's detail and stack with the line and column in the tenant's source; the stream ends on DELETE.

import net from 'node:net';
import t from 'tap';
import { tail } from './helpers/follow.js';
import { validator } from '../src/core/schemas.js';
import { startService } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  console.log('hit ' + request.path);
  if (request.path === '/boom') {
    throw new Error('kaput');
  }
  if (request.path === '/slow') { const t0 = Date.now(); while (Date.now() - t0 < 2000) {} }
  return { version: '1.1', statuscode: request.path === '/created' ? 201 : 200, headers: {}, message: 'ok ' + request.path };
}
`;

interface Request {
  kind: string;
  time: string;
  requestId: string;
  method: string;
  path: string;
  status: number;
  outcome: string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  detail?: string;
  stack?: string;
  logs: Array<{ time: string; level: string; message: string }>;
}

/** Sends one raw request and resolves with the whole response (the connection is closed by the server). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

const svc = await startService(t);

t.test('ok, exception and timeout, each with what the tenant needs', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER, { timeoutMs: 300 });
  const f = await tail(svc.url, httpdid);
  t.equal(f.status, 200);
  t.equal(f.contentType, 'application/x-ndjson');

  const ok = await raw(port, 'GET /created?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-Id: req-ok-1\r\nConnection: close\r\n\r\n');
  const boom = await raw(port, 'POST /boom HTTP/1.1\r\nHost: a\r\nX-Request-Id: req-boom\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  const slow = await raw(port, 'GET /slow HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  t.match(ok, /^HTTP\/1\.1 201 /);
  t.match(boom, /^HTTP\/1\.1 500 /);
  t.match(slow, /^HTTP\/1\.1 504 /);
  await f.waitFor((l) => l.filter((e) => (e as Request).kind === 'request').length >= 3, 10_000, 'three request entries');
  const [a, b, c] = f.lines.filter((e) => (e as Request).kind === 'request') as Request[];
  if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable');

  t.match(a, { requestId: 'req-ok-1', method: 'GET', path: '/created', status: 201, outcome: 'ok', bytesIn: 0, logs: [{ level: 'log', message: 'hit /created' }] }, 'the ok request');
  t.notOk('detail' in a, 'no detail for ok');
  t.equal(a.bytesOut, Buffer.byteLength(ok, 'latin1'), `bytesOut is what the client received (${a.bytesOut})`);
  t.ok(a.durationMs >= 0 && a.durationMs < 10_000, `a duration in ms (${a.durationMs})`);
  t.ok(Math.abs(Date.parse(a.time) - Date.now()) < 60_000, 'an ISO time');

  t.match(b, { requestId: 'req-boom', method: 'POST', path: '/boom', status: 500, outcome: 'exception', bytesIn: 5, detail: /kaput/ }, 'the exception');
  t.match(b.stack, /handler\.js:4:11/, `the stack names the throw's line and column (${b.stack})`);
  t.same(
    b.logs.map((l) => l.message),
    ['hit /boom'],
    'the console line written inside it',
  );
  t.equal(b.bytesOut, Buffer.byteLength(boom, 'latin1'));

  t.match(c, { method: 'GET', path: '/slow', status: 504, outcome: 'timeout', detail: /time limit/ }, 'the timeout');
  t.match(c.requestId, /^[0-9a-f-]{8,}/, 'a request id made by the service when the client sent none');
  t.ok(c.durationMs >= 250, `its duration covers the time limit (${c.durationMs} ms)`);
  t.match(slow, new RegExp(`X-Request-Id: ${c.requestId}`, 'i'), 'the same id as the client was answered with');

  const valid = validator('tail-entry');
  for (const e of f.lines) t.ok(valid(e), `valid by schemas/tail-entry.json: ${JSON.stringify(valid.errors)}`);

  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  await f.ended;
  t.match(f.lines[f.lines.length - 1], { end: 'deleted' }, 'the last line says the server was deleted');
});

t.test('a server no one tails sends no request events; one whose tail closed stops', async (t) => {
  const { httpdid, port } = await svc.deploy(HANDLER);
  await (await fetch(`http://127.0.0.1:${port}/before`)).text();
  const f = await tail(svc.url, httpdid);
  await (await fetch(`http://127.0.0.1:${port}/during`)).text();
  await f.waitFor((l) => l.some((e) => (e as Request).path === '/during'), 10_000, 'the request during the tail');
  t.notOk(
    f.lines.some((e) => (e as Request).path === '/before'),
    'a request answered before the tail began is not in it',
  );
  f.response.destroy();
  // A second tail opened later sees only its own requests.
  await (await fetch(`http://127.0.0.1:${port}/between`)).text();
  const g = await tail(svc.url, httpdid);
  await (await fetch(`http://127.0.0.1:${port}/after`)).text();
  await g.waitFor((l) => l.some((e) => (e as Request).path === '/after'), 10_000, 'the request of the second tail');
  t.notOk(
    g.lines.some((e) => (e as Request).path === '/between'),
    'nothing from between the tails',
  );
  g.response.destroy();
});

t.test('errors before the stream starts are ordinary JSON errors', async (t) => {
  const missing = await svc.api('GET', '/servers/4242/tail');
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'ISO_ERR_API_NOT_FOUND');
  const { httpdid } = await svc.deploy(HANDLER);
  for (const [q, why] of [
    ['status=6xx', /querystring\.status must be statuses/],
    ['status=5xx,abc', /querystring\.status must be statuses .* got "abc"/],
    ['outcome=boom', /querystring\.outcome must be outcomes \(ok, exception, timeout, memory, invalidResponse, crashed\)/],
    ['sample=0.0', /querystring\.sample must be a fraction over 0 and at most 1/],
    ['sample=2', /querystring\.sample must be the fraction of requests shown: over 0 and at most 1/],
    ['sample=abc', /querystring\.sample must be the fraction/],
    ['nope=1', /querystring\.nope is not an allowed field/],
  ] as const) {
    const r = await svc.api('GET', `/servers/${httpdid}/tail?${q}`);
    t.equal(r.status, 400, `${q}: 400`);
    t.equal(r.body.error.code, 'ISO_ERR_API_BAD_REQUEST');
    t.match(r.body.error.message, why, `${q}: ${r.body.error.message}`);
  }
});
