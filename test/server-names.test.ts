// Server names: `name` at creation (a DNS label, unique per tenant), accepted wherever the API takes an httpdid, kept across a restart, refused when taken or malformed; another tenant's name is invisible; a PUT that changes nothing keeps the version.

import t from 'tap';
import { addTenant, freePort, startService, tempDataDir } from './helpers/service.js';

const HELLO = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v1 ' + r.path });";
const HELLO2 = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v2 ' + r.path });";

t.test('a name is accepted wherever an httpdid is', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { name: 'hello', host: '127.0.0.1', port, source: HELLO });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal(created.body.name, 'hello', 'the view shows the name');
  const id = created.body.httpdid as number;
  const byName = await svc.api('GET', '/servers/hello');
  t.equal(byName.status, 200);
  t.equal(byName.body.httpdid, id, 'GET by name is the same server');
  t.equal((await svc.api('GET', `/servers/${id}`)).body.name, 'hello', 'and by httpdid');
  const listed = await svc.api('GET', '/servers');
  t.match(listed.body.servers, [{ httpdid: id, name: 'hello' }]);
  const updated = await svc.api('PUT', '/servers/hello', { source: HELLO2 });
  t.equal(updated.status, 200);
  t.equal(updated.body.version, 2, 'PUT by name redeploys');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/x`)).text(), 'v2 /x');
  const logs = await svc.api('GET', '/servers/hello/logs');
  t.equal(logs.status, 200, 'logs by name');
  const missing = await svc.api('GET', '/servers/nope');
  t.equal(missing.status, 404);
  t.match(missing.body, { error: { code: 'ISO_ERR_API_NOT_FOUND', message: 'no server named "nope"' } });
  t.equal((await svc.api('DELETE', '/servers/hello')).status, 204, 'DELETE by name');
  t.equal((await svc.api('GET', '/servers/hello')).status, 404, 'gone');
  const again = await svc.api('POST', '/servers', { name: 'hello', host: '127.0.0.1', port: await freePort(), source: HELLO });
  t.equal(again.status, 201, 'the name is free again once its server is deleted');
  t.ok(again.body.httpdid > id, 'a new httpdid');
});

t.test('a name is unique per tenant, also between concurrent creations', async (t) => {
  const svc = await startService(t);
  const [a, b] = await Promise.all([
    svc.api('POST', '/servers', { name: 'twin', host: '127.0.0.1', port: await freePort(), source: HELLO }),
    svc.api('POST', '/servers', { name: 'twin', host: '127.0.0.1', port: await freePort(), source: HELLO }),
  ]);
  t.same([a.status, b.status].sort(), [201, 409], 'exactly one of two concurrent creations of one name');
  const refused = a.status === 409 ? a : b;
  t.match(refused.body, { error: { code: 'ISO_ERR_API_NAME_TAKEN', message: /you have a server named "twin" already; deploy to it with PUT \/servers\/twin/ } });
  const third = await svc.api('POST', '/servers', { name: 'twin', host: '127.0.0.1', port: await freePort(), source: HELLO });
  t.equal(third.status, 409, 'and afterwards');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 1, 'one server, nothing left of the refused ones');
});

t.test('malformed names are refused with the rule', async (t) => {
  const svc = await startService(t);
  for (const name of ['Hello', '1abc', '-x', 'a_b', 'a'.repeat(64), '', 'hé']) {
    const r = await svc.api('POST', '/servers', { name, host: '127.0.0.1', port: await freePort(), source: HELLO });
    t.equal(r.status, 400, `name ${JSON.stringify(name)}`);
    t.match(r.body, { error: { code: 'ISO_ERR_API_BAD_REQUEST', message: /name/ } });
  }
  for (const ref of ['Hello', 'a_b', '0', '-1']) {
    const r = await svc.api('GET', `/servers/${encodeURIComponent(ref)}`);
    t.equal(r.status, 400, `GET /servers/${ref}: neither an httpdid nor a name`);
  }
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0);
});

t.test("names are per tenant: another tenant's server of the same name is invisible", async (t) => {
  const dataDir = tempDataDir();
  const alice = addTenant(dataDir, 'alice');
  const bob = addTenant(dataDir, 'bob');
  const svc = await startService(t, [], {}, { dataDir });
  const a = await svc.api('POST', '/servers', { name: 'api', host: '127.0.0.1', port: await freePort(), source: HELLO }, alice);
  const b = await svc.api('POST', '/servers', { name: 'api', host: '127.0.0.1', port: await freePort(), source: HELLO2 }, bob);
  t.equal(a.status, 201);
  t.equal(b.status, 201, 'the same name for another tenant');
  t.equal((await svc.api('GET', '/servers/api', undefined, alice)).body.httpdid, a.body.httpdid, "alice's api");
  t.equal((await svc.api('GET', '/servers/api', undefined, bob)).body.httpdid, b.body.httpdid, "bob's api");
  t.equal((await svc.api('DELETE', '/servers/api', undefined, bob)).status, 204);
  t.equal((await svc.api('GET', '/servers/api', undefined, bob)).status, 404, "bob's is gone");
  t.equal((await svc.api('GET', '/servers/api', undefined, alice)).status, 200, "alice's is not");
});

t.test('a name survives a restart', async (t) => {
  const dataDir = tempDataDir();
  const first = await startService(t, [], {}, { dataDir });
  const created = await first.api('POST', '/servers', { name: 'keep', host: '127.0.0.1', port: await freePort(), source: HELLO });
  t.equal(created.status, 201);
  await first.stop();
  const second = await startService(t, [], {}, { dataDir });
  const got = await second.api('GET', '/servers/keep');
  t.equal(got.status, 200);
  t.equal(got.body.httpdid, created.body.httpdid);
  t.equal((await second.api('POST', '/servers', { name: 'keep', host: '127.0.0.1', port: await freePort(), source: HELLO })).status, 409, 'still taken after the restart');
});

t.test('a PUT that changes nothing deploys nothing and keeps the version', async (t) => {
  const svc = await startService(t);
  const created = await svc.api('POST', '/servers', { name: 'same', host: '127.0.0.1', port: await freePort(), source: HELLO, limits: { timeoutMs: 800 } });
  t.equal(created.status, 201);
  const same = await svc.api('PUT', '/servers/same', { source: HELLO, limits: { timeoutMs: 800 } });
  t.equal(same.status, 200);
  t.equal(same.body.version, 1, 'the same source and limits: version 1 still');
  t.equal(same.body.updatedAt, created.body.updatedAt, 'nothing recorded');
  const limitsOnly = await svc.api('PUT', '/servers/same', { limits: { timeoutMs: 900 } });
  t.equal(limitsOnly.body.version, 2, 'a changed limit is a new version');
  t.equal((await svc.api('PUT', '/servers/same', { exposeErrors: false })).body.version, 2, 'exposeErrors as it is: no new version');
  t.equal((await svc.api('PUT', '/servers/same', { exposeErrors: true })).body.version, 3, 'exposeErrors changed: a new version');
});
