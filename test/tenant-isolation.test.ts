// Two tenants cannot see or touch each other's servers (list, get, logs, delete: 404 like a missing one); a missing or wrong token is 401.

import t from 'tap';
import { addTenant, example, startService, tempDataDir, tenantCli } from './helpers/service.js';

t.test('tenants only see their own servers', async (t) => {
  const dataDir = tempDataDir();
  const alice = addTenant(dataDir, 'alice');
  const bob = addTenant(dataDir, 'bob');
  t.not(alice, bob);
  const svc = await startService(t, [], {}, { dataDir });
  t.notMatch(svc.output(), /open/, 'no open default tenant once tenants exist');
  const a = await svc.deploy(example('hello.js'), undefined, alice);
  const b = await svc.deploy(example('hello.js'), undefined, bob);

  const listA = await svc.api('GET', '/servers', undefined, alice);
  t.equal(listA.status, 200);
  t.same(
    listA.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [a.httpdid],
    'alice lists only hers',
  );
  t.equal(listA.body.servers[0].tenant, 'alice');
  const listB = await svc.api('GET', '/servers', undefined, bob);
  t.same(
    listB.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [b.httpdid],
    'bob lists only his',
  );

  const missing = await svc.api('GET', '/servers/999999', undefined, bob);
  t.equal(missing.status, 404);
  for (const [method, suffix] of [
    ['GET', ''],
    ['GET', '/logs'],
    ['DELETE', ''],
  ] as const) {
    const r = await svc.api(method, `/servers/${a.httpdid}${suffix}`, undefined, bob);
    t.equal(r.status, 404, `${method} ${suffix || '/'} of another tenant's server`);
    t.equal(r.body.error.code, 'ISO_ERR_API_NOT_FOUND');
    t.equal(r.body.error.message, `no server with httpdid ${a.httpdid}`, 'worded like a missing one');
    const m = await svc.api(method, `/servers/999999${suffix}`, undefined, bob);
    t.equal(m.body.error.message, 'no server with httpdid 999999', 'same shape for a missing one');
  }
  const res = await fetch(`http://127.0.0.1:${a.port}/`);
  t.equal(res.status, 200, "alice's server still serves after bob's DELETE");
  await res.text();
  t.equal((await svc.api('GET', `/servers/${a.httpdid}`, undefined, alice)).status, 200);
  t.equal((await svc.api('DELETE', `/servers/${a.httpdid}`, undefined, alice)).status, 204, 'the owner deletes it');
});

t.test('401 without a valid token; tenants added and removed apply at once', async (t) => {
  const dataDir = tempDataDir();
  const carol = addTenant(dataDir, 'carol');
  const svc = await startService(t, [], {}, { dataDir });
  for (const [name, token] of [
    ['no token', undefined],
    ['a wrong token', 'iso_nope'],
    ['an empty one', ''],
  ] as const) {
    const r = await svc.api('GET', '/servers', undefined, token);
    t.equal(r.status, 401, name);
    t.equal(r.body.error.code, 'ISO_ERR_API_UNAUTHORIZED', name);
    t.match(r.headers.get('www-authenticate'), /^Bearer/, name);
  }
  const post = await svc.api('POST', '/servers', { host: '127.0.0.1', port: 5000, source: example('hello.js') });
  t.equal(post.status, 401, 'POST without a token');
  const basic = await fetch(`${svc.url}/servers`, { headers: { authorization: `Basic ${carol}` } });
  t.equal(basic.status, 401, 'another scheme');
  await basic.text();
  t.equal((await svc.api('GET', '/healthz')).status, 200, '/healthz needs no token');
  t.equal((await svc.api('GET', '/servers', undefined, carol)).status, 200);

  const dave = addTenant(dataDir, 'dave');
  t.equal((await svc.api('GET', '/servers', undefined, dave)).status, 200, 'a tenant added while the service runs');
  t.equal(tenantCli(dataDir, 'rm', 'dave').status, 0);
  t.equal((await svc.api('GET', '/servers', undefined, dave)).status, 401, 'a removed tenant is refused at once');
});
