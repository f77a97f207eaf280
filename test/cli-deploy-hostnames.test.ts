// `isohttpd deploy` with `hostnames` in isohttpd.json: created as a virtual host, redeployed by name with the same names (in any spelling), refused with other names; a bad name in the project file is refused before anything is sent.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';
import { ask, namedHandler, text } from './helpers/vhosts.js';

t.test('deploy a project with hostnames', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-vhost-project-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const project = (hostnames: unknown): void => writeFileSync(path.join(dir, 'isohttpd.json'), JSON.stringify({ name: 'shop', entry: 'h.js', port, hostnames }));
  writeFileSync(path.join(dir, 'h.js'), namedHandler('SHOP'));
  project(['shop.example', '*.shop.example']);

  const first = await runCli(['deploy'], env, dir);
  t.equal(first.code, EXIT.ok, first.stderr);
  t.same((await svc.api('GET', '/servers/shop')).body.hostnames, ['shop.example', '*.shop.example']);
  t.match(text(await ask(port, 'www.shop.example')), /^SHOP /);

  project(['*.shop.example', 'SHOP.example']);
  writeFileSync(path.join(dir, 'h.js'), namedHandler('SHOP2'));
  const again = await runCli(['deploy'], env, dir);
  t.equal(again.code, EXIT.ok, again.stderr);
  t.match(again.stdout, /to version 2/, 'the same names, spelt otherwise and in another order: a redeploy');
  t.match(text(await ask(port, 'shop.example')), /^SHOP2 /);

  project(['other.example']);
  const moved = await runCli(['deploy'], env, dir);
  t.not(moved.code, EXIT.ok);
  t.match(moved.stderr, /cannot change its hostnames other\.example \(it has shop\.example, \*\.shop\.example\)/);

  project(['*']);
  const bad = await runCli(['deploy'], env, dir);
  t.not(bad.code, EXIT.ok, 'a project file whose hostnames break the schema');
  t.match(bad.stderr, /hostnames/);
  t.equal((await svc.api('GET', '/servers/shop')).body.version, 2, 'nothing changed');
});
