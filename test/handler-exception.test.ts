// A handler that throws (or rejects) gets 500 (with exposeErrors: "handler raised: <message> (request id …)"); the server keeps serving.

import t from 'tap';
import { startService } from './helpers/service.js';

const THROWER = `
let n = 0;
export default async function handler(request) {
  n++;
  if (request.path === '/sync') throw new Error('boom ' + n);
  if (request.path === '/reject') { await null; throw new TypeError('async boom'); }
  if (request.path === '/string') throw 'a plain string';
  if (request.path === '/crlf') throw new Error('evil\\r\\nX-Injected: yes');
  return { version: '1.1', statuscode: 200, headers: {}, message: 'fine ' + n };
}`;

t.test('exceptions become 500 and are logged with the httpdid', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(THROWER, undefined, undefined, { exposeErrors: true });
  const get = async (p: string): Promise<{ status: number; text: string; headers: Headers }> => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`);
    return { status: r.status, text: await r.text(), headers: r.headers };
  };
  const sync = await get('/sync');
  t.equal(sync.status, 500);
  t.match(sync.text, /^handler raised: boom 1 \(request id [^)]+\)\n$/);
  t.equal(sync.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.equal(sync.headers.get('connection'), 'close');
  t.match((await get('/reject')).text, /^handler raised: async boom \(request id [^)]+\)\n$/);
  t.match((await get('/string')).text, /^handler raised: a plain string \(request id [^)]+\)\n$/);
  const crlf = await get('/crlf');
  t.match(crlf.text, /^handler raised: evil\\x0d\\x0aX-Injected: yes \(request id [^)]+\)\n$/, 'control characters are escaped');
  t.equal(crlf.headers.get('x-injected'), null);
  const ok = await get('/fine');
  t.equal(ok.status, 200);
  t.equal(ok.text, 'fine 5', 'module state persists across requests and exceptions');
  await new Promise((r) => setTimeout(r, 200));
  const logged = svc
    .output()
    .split('\n')
    .filter((l) => l.includes('"outcome":"exception"'));
  t.ok(logged.length >= 4, 'exceptions are logged');
  t.ok(
    logged.every((l) => JSON.parse(l).httpdid === httpdid),
    'with the httpdid',
  );
});
