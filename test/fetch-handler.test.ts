// Workers-style handlers: `export default { fetch(request, env, ctx) }` returning a Response (Headers, Request, Response in the prelude). The Request carries what the request dict carries (url from Host, method, headers, body); statuses, headers, string and binary bodies, Response.json and redirect, ctx.waitUntil awaited before the answer, and anything but a Response is an invalid response.

import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';

const WORKER = `let background = 0;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/json':
        return Response.json({ method: request.method, url: request.url, q: url.searchParams.get('q'), ua: request.headers.get('User-Agent'), greeting: env.GREETING ?? null, bodyUsed: request.bodyUsed });
      case '/echo':
        return new Response(await request.text(), { status: 201, statusText: 'Made', headers: { 'X-Echo': 'yes' } });
      case '/bytes':
        return new Response(new Uint8Array([0, 1, 2, 255]), { headers: { 'content-type': 'application/octet-stream' } });
      case '/redirect':
        return Response.redirect('http://example.com/next', 307);
      case '/wait':
        ctx.waitUntil(Promise.resolve().then(() => { background++; }));
        return new Response('waited');
      case '/background':
        return new Response(String(background));
      case '/headers': {
        const h = new Headers({ 'X-A': '1' });
        h.append('x-a', '2');
        return new Response(null, { status: 204, headers: h });
      }
      case '/not-a-response':
        return { status: 200, body: 'nope' };
      case '/used': {
        const r = new Response('once');
        await r.text();
        return r;
      }
      case '/throw':
        throw new Error('fetch boom');
      default:
        return new Response('not found', { status: 404 });
    }
  },
};
`;

t.test('a Workers-style fetch handler', async (t) => {
  const svc = await startService(t);
  const { port, httpdid } = await svc.deploy(WORKER, undefined, undefined, { vars: { GREETING: 'hi' }, exposeErrors: true });
  const base = `http://127.0.0.1:${port}`;

  const j = await fetch(`${base}/json?q=42`, { headers: { 'user-agent': 'tap' } });
  t.equal(j.status, 200);
  t.match(j.headers.get('content-type'), /^application\/json/);
  t.same(await j.json(), { method: 'GET', url: `http://127.0.0.1:${port}/json?q=42`, q: '42', ua: 'tap', greeting: 'hi', bodyUsed: false }, 'the Request: url from Host, method, headers; env');

  const e = await fetch(`${base}/echo`, { method: 'POST', body: 'héllo' });
  t.equal(e.status, 201);
  t.equal(e.statusText, 'Made');
  t.equal(e.headers.get('x-echo'), 'yes');
  t.match(e.headers.get('content-type'), /^text\/plain;charset=UTF-8/, 'a string body is text/plain by default');
  t.equal(await e.text(), 'héllo', 'request.text() reads the body');

  const b = await fetch(`${base}/bytes`);
  t.same([...new Uint8Array(await b.arrayBuffer())], [0, 1, 2, 255], 'a binary body');

  const r = await fetch(`${base}/redirect`, { redirect: 'manual' });
  t.equal(r.status, 307);
  t.equal(r.headers.get('location'), 'http://example.com/next');

  const w = await fetch(`${base}/wait`);
  t.equal(await w.text(), 'waited');
  t.equal(await (await fetch(`${base}/background`)).text(), '1', 'ctx.waitUntil work finished before the answer');

  const h = await fetch(`${base}/headers`);
  t.equal(h.status, 204);
  t.equal(h.headers.get('x-a'), '1, 2', 'repeated header values joined');

  for (const [p, why] of [
    ['/not-a-response', /a fetch handler must return a Response/],
    ['/used', /a fetch handler must return a Response .*whose body was not read/],
    ['/throw', /fetch boom/],
  ] as const) {
    const x = await fetch(`${base}${p}`);
    t.equal(x.status, 500, `${p}: 500`);
    t.match(await x.text(), why, `${p}: says why`);
  }
  t.equal((await fetch(`${base}/nope`)).status, 404);
  const stats = (await svc.api('GET', `/servers/${httpdid}`)).body.stats;
  t.equal(stats.outcomes.invalidResponse, 2, 'counted as invalid responses');
  t.equal(stats.outcomes.exception, 1);
  t.equal(stats.outcomes.ok, 8, 'the 8 Responses (the 404 included)');
});

t.test('a plain, synchronous fetch, and a default export that is neither form', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy("export default { fetch: (req) => new Response('sync ' + req.method) };");
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`, { method: 'DELETE' })).text(), 'sync DELETE');
  const bad = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: 'export default { handle() {} };' });
  t.equal(bad.status, 422);
  t.match(bad.body.error.message, /must be a function or an object with a fetch method, got an object without a fetch method/);
});

t.test('examples/worker.js serves as documented', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(example('worker.js'), undefined, undefined, { vars: { GREETING: 'hey' } });
  t.same(await (await fetch(`http://127.0.0.1:${port}/a?b=c`)).json(), { greeting: 'hey', method: 'GET', path: '/a', query: { b: 'c' } });
  const posted = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } });
  t.equal(posted.status, 201);
  t.equal(await posted.text(), '{"x":1}');
});
