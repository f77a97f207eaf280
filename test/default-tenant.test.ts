// The open `default` tenant: only with no tenant and a loopback API (said at start); a non-loopback API with no tenant refuses to start.

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { addTenant, example, startService, tempDataDir } from './helpers/service.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');

t.test('loopback with no tenant: open default tenant; `tenant add default` keeps its servers', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  t.match(svc.output(), /no tenant exists, so the API is open \(no token needed\) on loopback as tenant "default"/);
  const { httpdid } = await svc.deploy(example('hello.js'));
  const r = await svc.api('GET', `/servers/${httpdid}`);
  t.equal(r.status, 200, 'no token needed');
  t.equal(r.body.tenant, 'default');

  const token = addTenant(dataDir, 'default');
  t.equal((await svc.api('GET', '/servers')).status, 401, 'once a tenant exists, tokens are needed (without a restart)');
  const mine = await svc.api('GET', '/servers', undefined, token);
  t.same(
    mine.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [httpdid],
    'the default tenant keeps its servers',
  );
});

t.test('a non-loopback API with no tenant refuses to start', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [CLI, 'serve', '--api-host', '0.0.0.0', '--api-port', '0', '--data-dir', dataDir], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, /^isohttpd: the API would listen on 0\.0\.0\.0, which is not loopback, and no tenant exists: add one first with `isohttpd tenant add NAME/);
  t.equal(r.stderr.split('\n').length, 2, 'one line');

  const token = addTenant(dataDir, 'ops');
  const svc = await startService(t, ['--api-host', '0.0.0.0'], {}, { dataDir });
  t.notMatch(svc.output(), /open/);
  const url = `http://127.0.0.1:${svc.apiPort}/servers`;
  t.equal((await fetch(url)).status, 401, 'no token: 401');
  const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.status, 200);
  await ok.text();
});
