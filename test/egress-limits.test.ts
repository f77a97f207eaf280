// Outbound fetch limits: maxSubrequests per request (the next request has its own), maxSubrequestBytes on request and response bodies (a large response aborted as it arrives), and time charged: a fetch waiting on a slow upstream counts against the request's timeoutMs (504), and is aborted then.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { egressService, get, upstream } from './helpers/egress.js';
import { until } from './helpers/until.js';

const HANDLER = (port: number): string => `
const base = 'http://127.0.0.1:${port}';
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const out = [];
    if (path === '/many') {
      for (let i = 0; i < 5; i++) {
        try { await fetch(base + '/small'); out.push('ok'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); }
      }
      return Response.json(out);
    }
    try {
      if (path === '/big') await (await fetch(base + '/big')).arrayBuffer();
      if (path === '/upload') await fetch(base + '/small', { method: 'POST', body: 'x'.repeat(2000) });
      if (path === '/slow') await fetch(base + '/slow');
      return new Response('no error');
    } catch (e) {
      return new Response(e.constructor.name + ': ' + e.message, { status: 502 });
    }
  },
};
`;

t.test('maxSubrequests and maxSubrequestBytes', async (t) => {
  const up = await upstream(t, (req, _body, res) => res.end(req.url === '/big' ? 'b'.repeat(64 * 1024) : 'small'));
  const svc = await egressService(t, ['127.0.0.0/8']);
  const { port, httpdid } = await svc.deploy(HANDLER(up.port), { maxSubrequests: 3, maxSubrequestBytes: 1024 }, undefined, { egress: { allow: [`127.0.0.1:${up.port}`] } });
  const limit = 'TypeError: subrequest limit (3 per request, maxSubrequests) reached';
  t.same(JSON.parse((await get(port, '/many')).text), ['ok', 'ok', 'ok', limit, limit], 'the fourth and fifth fetch of a request are refused');
  t.same(JSON.parse((await get(port, '/many')).text), ['ok', 'ok', 'ok', limit, limit], 'the next request has its own count');
  t.equal(up.seen.filter((s) => s.url === '/small').length, 6, 'only the allowed ones reached the upstream');

  const big = await get(port, '/big');
  t.equal(big.status, 502);
  t.match(big.text, /^TypeError: fetch to 127\.0\.0\.1:\d+: subrequest bytes over the limit \(1024 bytes per request, maxSubrequestBytes\)$/, 'a 64 KiB response over a 1 KiB budget');
  const upload = await get(port, '/upload');
  t.match(upload.text, /subrequest bytes over the limit/, 'a request body over the budget');
  t.equal(up.seen.filter((s) => s.method === 'POST').length, 0, 'never sent');

  const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats as Record<string, number>;
  t.equal(s['egressRefusals'], 6, 'four over maxSubrequests, two over maxSubrequestBytes');
  t.ok((s['subrequestBytes'] ?? Number.POSITIVE_INFINITY) <= 6 * 5 + 1024 + 2000 + 64 * 1024, `bytes counted as they arrived, the big response cut short (${s['subrequestBytes']})`);
});

t.test("a fetch's wait counts against the request's timeoutMs; it is aborted at the deadline", async (t) => {
  let closed = 0;
  let arrived = 0;
  const slow = http.createServer((req) => {
    arrived++;
    req.socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    slow.closeAllConnections();
    slow.close();
  });
  const slowPort = (slow.address() as AddressInfo).port;
  const svc = await egressService(t, ['127.0.0.0/8']);
  const { port } = await svc.deploy(HANDLER(slowPort), { timeoutMs: 300 }, undefined, { egress: { allow: [`127.0.0.1:${slowPort}`] } });
  const r = await get(port, '/slow');
  t.equal(r.status, 504, 'the request timed out while its fetch waited');
  t.equal(arrived, 1, 'the fetch reached the upstream');
  t.ok(await until(() => closed === 1, 5000), 'and its connection was closed when the request ended');
  const again = await get(port, '/none');
  t.same(again, { status: 200, text: 'no error' }, 'the server serves on');
});
