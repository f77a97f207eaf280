// `exposeErrors: true` (per server, default false) answers an exception or invalid response with the handler's detail; a PUT toggles it on the running server, and it survives a restart.

import { rmSync } from 'node:fs';
import t, { type Test } from 'tap';
import { freePort, startService, tempDataDir } from './helpers/service.js';

const HANDLER = `export default function handler(request) {
  if (request.path === '/invalid') return { version: '1.1', statuscode: 99, headers: {}, message: '' };
  throw new Error('the detail');
}`;

const DETAILED = /^handler raised: the detail \(request id [^)]+\)\n$/;
const GENERIC = /^the handler raised an exception \(request id [^)]+\)\n$/;

/** The body of a request to the server, which must be answered 500. */
async function body(t: Test, port: number, path = '/'): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  t.equal(r.status, 500);
  return r.text();
}

t.test('exposeErrors: created on, shown, toggled by PUT, kept across a restart', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: HANDLER, exposeErrors: true });
  t.equal(created.status, 201);
  t.equal(created.body.exposeErrors, true, 'shown in the view');
  const httpdid = created.body.httpdid as number;
  t.match(await body(t, port), DETAILED, 'the detail, with the request id');
  t.match(await body(t, port, '/invalid'), /^invalid response: response\.statuscode .*\(request id [^)]+\)\n$/, 'an invalid response: why');

  const off = await svc.api('PUT', `/servers/${httpdid}`, { exposeErrors: false });
  t.equal(off.status, 200);
  t.match(off.body, { exposeErrors: false, version: 2 }, 'a redeploy of its own');
  t.match(await body(t, port), GENERIC, 'PUT false: the fixed text');
  t.match(await body(t, port, '/invalid'), /^the handler returned an invalid response \(request id [^)]+\)\n$/);

  const on = await svc.api('PUT', `/servers/${httpdid}`, { exposeErrors: true });
  t.equal(on.body.exposeErrors, true);
  t.match(await body(t, port), DETAILED, 'PUT true: the detail again');
  const limitsOnly = await svc.api('PUT', `/servers/${httpdid}`, { limits: { timeoutMs: 900 } });
  t.equal(limitsOnly.body.exposeErrors, true, 'a PUT without it keeps it');
  t.equal((await svc.api('GET', `/servers/${httpdid}`)).body.exposeErrors, true);

  const bad = await svc.api('PUT', `/servers/${httpdid}`, { exposeErrors: 'yes' });
  t.equal(bad.status, 400, 'a boolean only');

  await svc.stop();
  const again = await startService(t, [], {}, { dataDir });
  t.equal((await again.api('GET', `/servers/${httpdid}`)).body.exposeErrors, true, 'stored: restored on');
  t.match(await body(t, port), DETAILED, 'and served so after the restart');
});

t.test('exposeErrors defaults to false', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(HANDLER);
  t.equal((await svc.api('GET', `/servers/${httpdid}`)).body.exposeErrors, false);
  t.match(await body(t, port), GENERIC);
});
