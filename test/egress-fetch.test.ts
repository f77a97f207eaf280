// Outbound fetch to an allowed host (a local upstream, loopback opened by the operator's config): GET and POST with a body and headers, status, headers, text(), json(), arrayBuffer(), a Request as input, a redirect followed; the server's stats count the subrequests and their bytes.

import t from 'tap';
import { egressService, get, upstream } from './helpers/egress.js';

const HANDLER = (port: number): string => `
const base = 'http://127.0.0.1:${port}';
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === '/get') {
      const r = await fetch(base + '/hello?x=1', { headers: { 'x-tenant': 'acme', accept: 'text/plain' } });
      return Response.json({ status: r.status, ok: r.ok, statusText: r.statusText, type: r.headers.get('content-type'), custom: r.headers.get('x-up'), text: await r.text(), url: r.url, redirected: r.redirected });
    }
    if (path === '/post') {
      const r = await fetch(base + '/echo', { method: 'POST', body: JSON.stringify({ n: 42 }), headers: { 'content-type': 'application/json' } });
      return Response.json({ status: r.status, json: await r.json() });
    }
    if (path === '/bytes') {
      const r = await fetch(new Request(base + '/bytes', { method: 'PUT', body: new Uint8Array([1, 2, 3]) }));
      const ab = await r.arrayBuffer();
      return Response.json({ status: r.status, bytes: Array.from(new Uint8Array(ab)), isArrayBuffer: ab instanceof ArrayBuffer });
    }
    if (path === '/status') {
      const r = await fetch(base + '/teapot');
      return Response.json({ status: r.status, ok: r.ok, text: await r.text() });
    }
    if (path === '/redirect') {
      const r = await fetch(base + '/moved');
      return Response.json({ status: r.status, url: r.url, redirected: r.redirected, text: await r.text() });
    }
    if (path === '/proxy') return fetch(base + '/hello');
    return new Response('no such test', { status: 404 });
  },
};
`;

t.test('fetch from an allowed local upstream', async (t) => {
  const up = await upstream(t, (req, body, res) => {
    if (req.url?.startsWith('/hello')) {
      res.writeHead(200, 'Fine', { 'content-type': 'text/plain', 'x-up': 'yes' });
      return res.end('hello from upstream');
    }
    if (req.url === '/echo') {
      res.writeHead(201, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ got: JSON.parse(body), type: req.headers['content-type'] }));
    }
    if (req.url === '/bytes') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(Buffer.from([body.length, 250, 0, 7]));
    }
    if (req.url === '/teapot') {
      res.writeHead(418);
      return res.end('short and stout');
    }
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/hello?moved=1' });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  const svc = await egressService(t, ['127.0.0.0/8']);
  const { port, httpdid } = await svc.deploy(HANDLER(up.port), undefined, undefined, { egress: { allow: [`127.0.0.1:${up.port}`] } });

  const g = await get(port, '/get');
  t.equal(g.status, 200, g.text);
  t.same(JSON.parse(g.text), {
    status: 200,
    ok: true,
    statusText: 'Fine',
    type: 'text/plain',
    custom: 'yes',
    text: 'hello from upstream',
    url: `http://127.0.0.1:${up.port}/hello?x=1`,
    redirected: false,
  });
  const sent = up.seen.find((s) => s.url === '/hello?x=1');
  t.equal(sent?.headers['x-tenant'], 'acme', 'the request headers reach the upstream');
  t.equal(sent?.method, 'GET');

  const p = await get(port, '/post');
  t.same(JSON.parse(p.text), { status: 201, json: { got: { n: 42 }, type: 'application/json' } }, 'POST with a JSON body; json() of the answer');

  const b = await get(port, '/bytes');
  t.same(JSON.parse(b.text), { status: 200, bytes: [3, 250, 0, 7], isArrayBuffer: true }, 'a Request as input with a binary body; arrayBuffer()');
  t.equal(up.seen.find((s) => s.url === '/bytes')?.method, 'PUT');

  t.same(JSON.parse((await get(port, '/status')).text), { status: 418, ok: false, text: 'short and stout' }, 'a non-2xx status is a response, not an error');

  t.same(
    JSON.parse((await get(port, '/redirect')).text),
    { status: 200, url: `http://127.0.0.1:${up.port}/hello?moved=1`, redirected: true, text: 'hello from upstream' },
    'a redirect within the allow list is followed',
  );

  const proxied = await fetch(`http://127.0.0.1:${port}/proxy`);
  t.equal(proxied.status, 200);
  t.equal(proxied.headers.get('x-up'), 'yes', 'a fetched Response returned as it is');
  t.equal(await proxied.text(), 'hello from upstream');

  const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats as Record<string, number>;
  t.equal(s['subrequests'], 6, 'six subrequests counted (the redirect is one fetch)');
  t.ok((s['subrequestBytes'] ?? 0) > 50, `their bytes counted (${s['subrequestBytes']})`);
  t.equal(s['egressRefusals'], 0, 'none refused');
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, new RegExp(`isohttpd_egress_refusals_total\\{[^}]*httpdid="${httpdid}"[^}]*\\} 0`));

  // The policy is part of the version: a PUT that removes it redeploys, and the fetch is refused from then on.
  const put = await svc.api('PUT', `/servers/${httpdid}`, { egress: null });
  t.equal(put.status, 200);
  t.equal(put.body.version, 2, 'a new version');
  t.notOk('egress' in put.body, 'no egress any more');
  const refused = await fetch(`http://127.0.0.1:${port}/get`);
  t.equal(refused.status, 500, 'the handler now throws its TypeError');
  const logs = JSON.stringify((await svc.api('GET', `/servers/${httpdid}/logs`)).body);
  t.match(logs, /this server has no egress allow list \(no outbound access\)/, 'with the reason in the server log');
  const back = await svc.api('POST', `/servers/${httpdid}/rollback`, {});
  t.same(back.body.egress, { allow: [`127.0.0.1:${up.port}`] }, 'a rollback brings the policy back');
  t.equal((await get(port, '/status')).status, 200, 'and fetch works again');
  t.match(metrics, new RegExp(`isohttpd_subrequests_total\\{[^}]*httpdid="${httpdid}"[^}]*\\} 6`), 'in /metrics too');
});
