// `isohttpd tenant add|ls|rm` on a data dir: tokens printed once (hash stored), listing, removal refused while the tenant has servers.

import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { addTenant, example, startService, tempDataDir, tenantCli } from './helpers/service.js';

t.test('add, ls, rm', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const add = tenantCli(dataDir, 'add', 'acme', '--max-servers', '3', '--memory-mb', '256');
  t.equal(add.status, 0);
  const token = add.stdout.trim();
  t.match(token, /^iso_[A-Za-z0-9_-]{43}$/, 'one token line: 32 random bytes, base64url');
  t.match(add.stderr, /shown only this once/);
  const db = readFileSync(path.join(dataDir, 'isohttpd.sqlite')).toString('latin1') + readFileSync(path.join(dataDir, 'isohttpd.sqlite-wal'), { flag: 'a+' }).toString('latin1');
  t.notOk(db.includes(token), 'the token itself is not stored');

  const dup = tenantCli(dataDir, 'add', 'acme');
  t.equal(dup.status, 1);
  t.equal(dup.stderr, 'isohttpd: tenant "acme" already exists\n');
  t.equal(tenantCli(dataDir, 'add', 'Bad Name').status, 1);
  t.equal(tenantCli(dataDir, 'add', 'x', '--max-servers', 'many').status, 2);
  t.equal(tenantCli(dataDir, 'add').status, 2);
  t.equal(tenantCli(dataDir, 'frob').status, 2);

  addTenant(dataDir, 'beta');
  const ls = tenantCli(dataDir, 'ls');
  t.equal(ls.status, 0);
  t.match(ls.stdout, /^NAME\s+SERVERS\s+CREATED\s+QUOTA OVERRIDES\nacme\s+0\s+\S+\s+maxServers=3 memoryMb=256\nbeta\s+0\s+\S+\s+-\n$/);
  const json = JSON.parse(tenantCli(dataDir, 'ls', '--json').stdout) as { tenants: Array<{ name: string; quotas: object }> };
  t.same(
    json.tenants.map((x) => [x.name, x.quotas]),
    [
      ['acme', { maxServers: 3, memoryMb: 256 }],
      ['beta', {}],
    ],
  );

  // rm is refused while the tenant has servers, and nothing is lost.
  const svc = await startService(t, [], {}, { dataDir });
  const { httpdid } = await svc.deploy(example('hello.js'), undefined, token);
  const refused = tenantCli(dataDir, 'rm', 'acme');
  t.equal(refused.status, 1);
  t.equal(refused.stderr, `isohttpd: tenant "acme" still has servers (httpdid ${httpdid}); delete them first with its token (DELETE /servers/:httpdid)\n`);
  t.equal((await svc.api('GET', `/servers/${httpdid}`, undefined, token)).status, 200, 'the tenant still works');
  t.match(tenantCli(dataDir, 'ls').stdout, /acme\s+1\s/);
  t.equal((await svc.api('DELETE', `/servers/${httpdid}`, undefined, token)).status, 204);
  const rm = tenantCli(dataDir, 'rm', 'acme');
  t.equal(rm.status, 0);
  t.equal(rm.stdout, 'tenant "acme" removed\n');
  t.equal((await svc.api('GET', '/servers', undefined, token)).status, 401);
  const again = tenantCli(dataDir, 'rm', 'acme');
  t.equal(again.status, 1);
  t.equal(again.stderr, 'isohttpd: no tenant "acme"\n');
  t.notMatch(tenantCli(dataDir, 'ls').stdout, /acme/);
});
