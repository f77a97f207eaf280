// Hostile outbound fetch: a server whose handler fetches itself, recursively and in a loop (the operator opened loopback, the tenant allowed its own address): a loop in one request stops at maxSubrequests; a recursive chain (each hop a new request on the same isolate) is held to the server's outbound connections per origin and ended by the first request's deadline, which aborts every fetch of the chain; the service and a neighbour serve on.

import t from 'tap';
import { egressService, get } from '../helpers/egress.js';
import { freePort } from '../helpers/service.js';

const LOOP = (port: number): string => `
export default {
  async fetch(request) {
    const u = new URL(request.url);
    const depth = Number(u.searchParams.get('d') ?? 0);
    if (u.pathname === '/spin') {
      let n = 0;
      try { for (;;) { await (await fetch('http://127.0.0.1:${port}/leaf')).text(); n++; } }
      catch (e) { return new Response(n + ' then ' + e.message, { status: 502 }); }
    }
    if (u.pathname === '/leaf') return new Response('leaf');
    try {
      const r = await fetch('http://127.0.0.1:${port}/?d=' + (depth + 1));
      return new Response(depth + '>' + (await r.text()), { status: r.status });
    } catch (e) {
      return new Response(depth + ':' + e.message, { status: 502 });
    }
  },
};
`;

t.test('a handler that fetches itself', async (t) => {
  const svc = await egressService(t, ['127.0.0.0/8']);
  const neighbour = await svc.deploy('export default () => ({ version: "1.1", statuscode: 200, headers: {}, message: "neighbour ok" });');
  const port = await freePort();
  const created = await svc.api('POST', '/servers', {
    host: '127.0.0.1',
    port,
    source: LOOP(port),
    limits: { maxSubrequests: 10, timeoutMs: 1000 },
    egress: { allow: [`127.0.0.1:${port}`] },
  });
  t.equal(created.status, 201, 'created with its own address allowed');
  const httpdid = (created.body as { httpdid: number }).httpdid;

  const chain = await get(port, '/');
  t.equal(chain.status, 504, 'the recursion ended at the deadline of the first request');
  const spin = await get(port, '/spin');
  t.equal(spin.status, 502);
  t.match(spin.text, /^10 then subrequest limit \(10 per request, maxSubrequests\) reached$/, 'a loop in one request stops at maxSubrequests');

  const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats as Record<string, number>;
  // The chain: at most 16 hops hold a connection each (the server's pool per origin), the 17th waits for one; plus the loop's 10.
  t.ok((s['subrequests'] ?? Number.POSITIVE_INFINITY) <= 16 + 1 + 10, `subrequests bounded (${s['subrequests']})`);
  t.same(await get(neighbour.port, '/'), { status: 200, text: 'neighbour ok' }, 'the neighbour serves on');
  t.same(await get(port, '/leaf'), { status: 200, text: 'leaf' }, 'the looping server serves on');
  t.equal((await svc.api('GET', '/healthz')).status, 200, 'the service is up');
});
