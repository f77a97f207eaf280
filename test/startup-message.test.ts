// The start-up lines: servers restored and not serving are counted apart; the curl hint carries the token header once tokens are required; `tenant add` on a data dir without a registry says that it made one.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { example, startService, tempDataDir, tenantCli } from './helpers/service.js';

t.test('restored and not serving counted apart', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  t.match(first.output(), /, 0 servers restored\)\n/);
  t.notMatch(first.output(), /Bearer/, 'no token in the hint while the API is open');
  await first.deploy(example('hello.js'));
  const { port } = await first.deploy(example('hello.js'));
  await first.stop();
  const cdir = mkdtempSync(path.join(tmpdir(), 'isohttpd-startup-'));
  t.teardown(() => rmSync(cdir, { recursive: true, force: true }));
  writeFileSync(path.join(cdir, 'c.json'), JSON.stringify({ reservedPorts: [port] }));
  const second = await startService(t, ['--config', path.join(cdir, 'c.json')], {}, { dataDir });
  t.match(second.output(), /, 1 servers restored, 1 not serving \(isohttpd ls shows why\)\)\n/);
});

t.test('the hint has the token header once tenants exist; tenant add notes a new registry', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = tenantCli(dataDir, 'add', 'acme');
  t.equal(first.status, 0);
  t.match(first.stderr, /^isohttpd: note: \S+ held no registry; a new one was made there\. A running service uses the data dir it was started with/);
  const second = tenantCli(dataDir, 'add', 'other');
  t.equal(second.status, 0);
  t.notMatch(second.stderr, /held no registry/, 'no note once the registry exists');
  const svc = await startService(t, [], {}, { dataDir });
  t.match(svc.output(), /try: curl -s http:\/\/\S+\/servers -H "authorization: Bearer \$ISOHTTPD_TOKEN" -H 'content-type: application\/json'/);
});
