// What a client is told when a handler fails: a fixed text naming the outcome and the request id, never the handler's message; every tenant response carries X-Request-Id (the client's when sane).

import t from 'tap';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { startService } from './helpers/service.js';

const SECRET = 'db password hunter2 at 10.1.2.3';

const HANDLER = `
export default async function handler(request) {
  if (request.path === '/throw') throw new Error(${JSON.stringify(SECRET)});
  if (request.path === '/reject') { await null; throw new TypeError(${JSON.stringify(SECRET)}); }
  if (request.path === '/invalid') return { version: '1.1', statuscode: ${JSON.stringify(SECRET)}, headers: {}, message: '' };
  if (request.path === '/spin') for (;;) {}
  if (request.path === '/own-id') return { version: '1.1', statuscode: 200, headers: { 'X-Request-Id': 'forged', 'x-other': 'kept' }, message: 'mine' };
  return { version: '1.1', statuscode: 200, headers: {}, message: 'fine' };
}`;

/** The fixed bodies: the outcome in words, then the request id. */
const GENERIC: Record<string, RegExp> = {
  '/throw': /^the handler raised an exception \(request id ([^)]+)\)\n$/,
  '/reject': /^the handler raised an exception \(request id ([^)]+)\)\n$/,
  '/invalid': /^the handler returned an invalid response \(request id ([^)]+)\)\n$/,
  '/spin': /^the handler exceeded its time limit \(request id ([^)]+)\)\n$/,
};

t.test('exception, invalidResponse and timeout bodies are fixed texts with the request id', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 200 });
  const statuses: Record<string, number> = { '/throw': 500, '/reject': 500, '/invalid': 500, '/spin': 504 };
  for (const [path, shape] of Object.entries(GENERIC)) {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    const text = await r.text();
    t.equal(r.status, statuses[path], `${path}: status kept`);
    const m = shape.exec(text);
    t.ok(m !== null, `${path}: ${JSON.stringify(text)}`);
    t.notOk(text.includes('hunter2'), `${path}: the handler's message is not sent`);
    t.equal(r.headers.get('x-request-id'), m?.[1], `${path}: the body names the id of X-Request-Id`);
  }
});

t.test('X-Request-Id on ok responses: echoed when sane, replaced when not, unique otherwise; a handler cannot set it', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER);
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    t.equal(await r.text(), 'fine');
    const id = r.headers.get('x-request-id') ?? '';
    t.match(id, /^[0-9a-f]{12}-[0-9a-z]+$/, 'a fresh id: worker prefix and counter');
    ids.add(id);
  }
  t.equal(ids.size, 5, 'each request its own id');
  const sane = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': 'trace-42:abc/DEF=+.@' } });
  await sane.text();
  t.equal(sane.headers.get('x-request-id'), 'trace-42:abc/DEF=+.@', 'a sane client id is echoed');
  for (const bad of ['has space', 'quote"d', 'x'.repeat(129), 'caf\u00e9']) {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': bad } });
    await r.text();
    const id = r.headers.get('x-request-id') ?? '';
    t.not(id, bad, `not echoed: ${JSON.stringify(bad.slice(0, 20))}`);
    t.match(id, /^[0-9a-f]{12}-[0-9a-z]+$/, 'replaced by a fresh id');
  }
  const echoedOnError = await fetch(`http://127.0.0.1:${port}/throw`, { headers: { 'x-request-id': 'client-7' } });
  t.equal(await echoedOnError.text(), 'the handler raised an exception (request id client-7)\n', 'the client id in an error body');
  t.equal(echoedOnError.headers.get('x-request-id'), 'client-7');
  const own = await fetch(`http://127.0.0.1:${port}/own-id`, { headers: { 'x-request-id': 'client-8' } });
  t.equal(await own.text(), 'mine');
  t.equal(own.headers.get('x-request-id'), 'client-8', "the handler's own X-Request-Id is dropped");
  t.equal(own.headers.get('x-other'), 'kept', 'its other headers are not');
  const [tooLarge] = parseResponses(await exchange(port, 'POST /a HTTP/1.1\r\nHost: h\r\nX-Request-Id: client-9\r\nContent-Length: 99999999999\r\n\r\n'));
  t.equal(tooLarge?.status, 413, 'a request the codec refuses after its head');
  t.equal(tooLarge?.headers['x-request-id'], 'client-9', 'carries its id too');
  const [garbled] = parseResponses(await exchange(port, 'garbage\r\n\r\n'));
  t.equal(garbled?.status, 400);
  t.match(garbled?.headers['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/, 'a fresh id when there is no head to take one from');
});
