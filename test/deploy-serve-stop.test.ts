// Deploy a handler over the API, serve HTTP from it, stop it: the whole path end to end.

import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';
import { isRefused } from './helpers/raw-http.js';

t.test('deploy, serve, list, show, stop', async (t) => {
  const svc = await startService(t);
  t.same((await svc.api('GET', '/healthz')).body, { ok: true });

  const p = await freePort();
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port: p, source: example('hello.js') });
  t.equal(created.status, 201);
  const id = created.body.httpdid;
  t.ok(Number.isInteger(id) && id > 0, 'httpdid is a positive integer');
  t.equal(created.headers.get('location'), `/servers/${id}`);
  t.match(created.body, { host: '127.0.0.1', port: p, state: 'running', limits: { memoryMb: 64, timeoutMs: 1000 } });
  t.ok(!Number.isNaN(Date.parse(created.body.createdAt)), 'createdAt is a date');
  t.notOk('source' in created.body, 'no source in the answer');

  const res = await fetch(`http://127.0.0.1:${p}/some/path?x=1`);
  t.equal(res.status, 200);
  t.equal(await res.text(), 'Hello from isohttpd! You asked for /some/path\n');
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.ok(res.headers.get('date'), 'Date header is set');

  const list = await svc.api('GET', '/servers');
  t.equal(list.status, 200);
  t.same(
    list.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [id],
  );

  const shown = await svc.api('GET', `/servers/${id}`);
  t.equal(shown.status, 200);
  t.notOk('source' in shown.body, 'no source unless asked');
  const withSource = await svc.api('GET', `/servers/${id}?source=1`);
  t.equal(withSource.body.source, example('hello.js'));

  const del = await svc.api('DELETE', `/servers/${id}`);
  t.equal(del.status, 204);
  t.ok(await isRefused(p), 'connection refused after DELETE');
  const again = await svc.api('DELETE', `/servers/${id}`);
  t.equal(again.status, 404);
  t.equal(again.body.error.code, 'ISO_ERR_API_NOT_FOUND');
  t.equal((await svc.api('GET', `/servers/${id}`)).status, 404);
  t.same((await svc.api('GET', '/servers')).body, { servers: [] });

  // The port is released: it can be deployed again, under a new httpdid.
  const redeploy = await svc.api('POST', '/servers', { host: '127.0.0.1', port: p, source: example('hello.js') });
  t.equal(redeploy.status, 201);
  t.ok(redeploy.body.httpdid > id, 'httpdids are never reused');
});

t.test('httpdids are not reused across restarts of the same data dir', async (t) => {
  const svc = await startService(t);
  const first = await svc.deploy(example('hello.js'));
  await svc.api('DELETE', `/servers/${first.httpdid}`);
  const dataDir = svc.dataDir;
  svc.proc.kill('SIGTERM');
  await new Promise((r) => svc.proc.once('exit', r));
  const svc2 = await startService(t, ['--data-dir', dataDir]);
  const second = await svc2.deploy(example('hello.js'));
  t.ok(second.httpdid > first.httpdid, `${second.httpdid} > ${first.httpdid}`);
});
