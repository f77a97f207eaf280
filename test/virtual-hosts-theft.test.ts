// Hostname theft refused: on a shared address no tenant may claim a name another tenant's names could match (the same name, a wildcard over it, a name under its wildcard); malformed hostnames are 400; servers with and without hostnames never share an address; the address policy can keep tenants apart.

import { rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { addTenant, freePort, startService, tempDataDir } from './helpers/service.js';
import { ask, deployVhost, text } from './helpers/vhosts.js';

t.test('a tenant cannot claim what another tenant holds on the address', async (t) => {
  const dataDir = tempDataDir();
  const alice = addTenant(dataDir, 'alice');
  const bob = addTenant(dataDir, 'bob');
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  const port = await freePort();
  t.equal((await deployVhost(svc, port, ['alice.example', 'www.alice.example', '*.shop.example'], 'A', alice)).status, 201);

  for (const [names, why] of [
    [['alice.example'], 'the same name'],
    [['ALICE.EXAMPLE.'], 'the same name, spelt otherwise'],
    [['*.alice.example'], 'a wildcard covering her name www.alice.example'],
    [['x.shop.example'], 'a name under her wildcard'],
    [['*.x.shop.example'], 'a wildcard under her wildcard'],
    [['*.shop.example'], 'her wildcard itself'],
    [['bob.example', 'alice.example'], 'one stolen name among others'],
  ] as const) {
    const r = await deployVhost(svc, port, names, 'B', bob);
    t.equal(r.status, 409, `refused: ${why}`);
    t.equal(r.body.error.code, 'ISO_ERR_API_HOSTNAME_TAKEN', why);
    t.notMatch(r.body.error.message, /"alice"|tenant alice/, 'the other tenant is not named');
  }
  t.match(text(await ask(port, 'alice.example')), /^A /, 'her names still go to her server');
  t.match(text(await ask(port, 'x.shop.example')), /^A /);
  t.equal((await ask(port, 'bob.example')).status, 421, 'nothing of the refused claims was left behind');

  // What does not overlap is his to claim: the wildcard's own suffix, a sibling domain.
  const b = await deployVhost(svc, port, ['shop.example', 'bob.example', 'bob.shop2.example'], 'B', bob);
  t.equal(b.status, 201, JSON.stringify(b.body));
  t.match(text(await ask(port, 'shop.example')), /^B /, '*.shop.example does not match shop.example');
  // Now alice may not take a wildcard over bob's names either.
  const cover = await deployVhost(svc, port, ['*.bob.example', 'x.bob.example'], 'A2', alice);
  t.equal(cover.status, 201, 'names under his exact name (not matched by it) are free');
  const over = await deployVhost(svc, port, ['*.shop2.example'], 'A3', alice);
  t.equal(over.status, 409, "a wildcard over bob's names is refused for alice too");

  // Within one tenant, names may nest (the precedence decides); only the same name twice is refused.
  const mine = await deployVhost(svc, port, ['deals.shop.example'], 'A4', alice);
  t.equal(mine.status, 201, 'alice nests a name under her own wildcard');
  t.match(text(await ask(port, 'deals.shop.example')), /^A4 /);
  const twice = await deployVhost(svc, port, ['deals.shop.example'], 'A5', alice);
  t.equal(twice.status, 409);
  t.equal(twice.body.error.code, 'ISO_ERR_API_HOSTNAME_TAKEN');
});

t.test('malformed hostnames are 400', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  for (const names of [
    ['*'],
    ['*.com'],
    ['a.*.example'],
    ['*a.example'],
    ['-a.example'],
    ['a_b.example'],
    ['a..example'],
    ['10.0.0.1'],
    [`${'a'.repeat(64)}.example`],
    [],
    Array.from({ length: 33 }, (_, i) => `h${i}.example`),
  ]) {
    const r = await deployVhost(svc, port, names, 'X');
    t.equal(r.status, 400, `refused: ${JSON.stringify(names).slice(0, 60)}`);
    t.equal(r.body.error.code, 'ISO_ERR_API_BAD_REQUEST');
  }
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0, 'nothing was created');
});

t.test('servers with and without hostnames never share; replicas must match', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const plain = await freePort();
  const shared = await freePort();
  t.equal((await svc.api('POST', '/servers', { host: '127.0.0.1', port: plain, source: 'export default () => ({ statuscode: 200 })' })).status, 201);
  const onPlain = await deployVhost(svc, plain, ['a.example'], 'A');
  t.equal(onPlain.status, 409, 'hostnames on an address a plain server has to itself');
  t.equal(onPlain.body.error.code, 'ISO_ERR_API_ADDRESS_IN_USE');
  t.equal((await deployVhost(svc, shared, ['a.example'], 'A')).status, 201);
  const plainOnShared = await svc.api('POST', '/servers', { host: '127.0.0.1', port: shared, source: 'export default () => ({ statuscode: 200 })' });
  t.equal(plainOnShared.status, 409, 'a plain server on a shared address');
  t.equal(plainOnShared.body.error.code, 'ISO_ERR_API_ADDRESS_IN_USE');
  const replicas = await deployVhost(svc, shared, ['b.example'], 'B', undefined, { replicas: 2 });
  t.equal(replicas.status, 400, 'every server of a shared address runs on the same workers');
  t.match(replicas.body.error.message, /replicas must be 1/);
});

t.test('config virtualHosts.crossTenant false: an address is shared by one tenant only', async (t) => {
  const dataDir = tempDataDir();
  const alice = addTenant(dataDir, 'alice');
  const bob = addTenant(dataDir, 'bob');
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = `${dataDir}/config.json`;
  writeFileSync(config, JSON.stringify({ virtualHosts: { crossTenant: false } }));
  const svc = await startService(t, ['--config', config], {}, { dataDir });
  const port = await freePort();
  t.equal((await deployVhost(svc, port, ['a.example'], 'A', alice)).status, 201);
  t.equal((await deployVhost(svc, port, ['a2.example'], 'A2', alice)).status, 201, 'her own servers share it');
  const r = await deployVhost(svc, port, ['b.example'], 'B', bob);
  t.equal(r.status, 403);
  t.equal(r.body.error.code, 'ISO_ERR_API_ADDRESS_NOT_ALLOWED');
  t.match(r.body.error.message, /virtualHosts\.crossTenant/);
});
