// `isohttpd ls` shows a REASON column once a server has failed (the reason printed escaped), and `rm --json` prints what was removed (by httpdid or by name).

import { rmSync } from 'node:fs';
import net from 'node:net';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { example, freePort, startService, tempDataDir } from './helpers/service.js';

t.test('ls: REASON for a server that is not serving', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  const { port } = await first.deploy(example('hello.js'));
  await first.stop();
  // Another program holds the address at the restart: the server shows failed, with why.
  const squatter = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => squatter.close(() => r())));
  const svc = await startService(t, [], {}, { dataDir });
  const ls = await runCli(['ls'], { ISOHTTPD_URL: svc.url });
  t.equal(ls.code, EXIT.ok, ls.stderr);
  const [header, row] = ls.stdout.split('\n');
  t.match(header, /STATE .* CREATED +REASON$/, 'a REASON column');
  t.match(row, /failed .*not restored yet: .*in use/, 'with the reason');
});

t.test('ls: no REASON column while every server runs; rm --json', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const a = await svc.deploy(example('hello.js'));
  const named = await svc.api('POST', '/servers', { name: 'b', host: '127.0.0.1', port: await freePort(), source: example('hello.js') });
  t.equal(named.status, 201);
  const ls = await runCli(['ls'], env);
  t.notMatch(ls.stdout.split('\n')[0], /REASON/);
  t.match(ls.stdout.split('\n')[0], /^ID +NAME +ADDRESS/, 'a NAME column once a server has a name');
  const byId = await runCli(['rm', String(a.httpdid), '--json'], env);
  t.equal(byId.code, EXIT.ok, byId.stderr);
  t.same(JSON.parse(byId.stdout), { httpdid: a.httpdid, removed: true });
  const byName = await runCli(['rm', 'b', '--json'], env);
  t.same(JSON.parse(byName.stdout), { httpdid: named.body.httpdid, name: 'b', removed: true });
  const text = await runCli(['rm', 'b'], env);
  t.equal(text.code, EXIT.notFound, 'gone');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0);
});
