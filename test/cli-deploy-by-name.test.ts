// `isohttpd deploy` by name: creates the server when the tenant has none of that name, hot-redeploys it otherwise, says so when nothing changed; reads isohttpd.json when no FILE is given (flags win over it); refuses to move a server; the other commands take the name.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';

const handler = (v: string): string => `export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: '${v} ' + r.path });`;
const get = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/x`)).text();

t.test('deploy with a project file: create, up to date, update, and the old version kept on a bad source', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-project-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  writeFileSync(path.join(dir, 'isohttpd.json'), JSON.stringify({ name: 'web', entry: 'src/h.js', port, limits: { timeoutMs: 700 } }));
  const src = path.join(dir, 'src');
  mkdirSync(src);
  writeFileSync(path.join(src, 'h.js'), handler('v1'));

  const first = await runCli(['deploy'], env, dir);
  t.equal(first.code, EXIT.ok, first.stderr);
  t.match(first.stdout, new RegExp(`^deployed web, httpdid (\\d+) on http://127\\.0\\.0\\.1:${port}/ \\(memory 64 MiB, timeout 700 ms\\)\\n$`), 'created from the project file, its limits applied');
  const httpdid = Number(/httpdid (\d+)/.exec(first.stdout)?.[1]);
  t.equal(await get(port), 'v1 /x');

  const again = await runCli(['deploy'], env, dir);
  t.equal(again.code, EXIT.ok, again.stderr);
  t.equal(again.stdout, `web (httpdid ${httpdid}) is up to date: the same source and limits as version 1, nothing deployed\n`, 'the same deploy twice is a no-op that says so');
  t.equal((await svc.api('GET', '/servers/web')).body.version, 1);

  writeFileSync(path.join(src, 'h.js'), handler('v2'));
  const changed = await runCli(['deploy'], env, dir);
  t.equal(changed.code, EXIT.ok, changed.stderr);
  t.equal(changed.stdout, `updated web (httpdid ${httpdid}) to version 2 on http://127.0.0.1:${port}/\n`, 'a changed source is a hot redeploy');
  t.equal(await get(port), 'v2 /x');

  const flag = await runCli(['deploy', '--timeout-ms', '900'], env, dir);
  t.equal(flag.code, EXIT.ok, flag.stderr);
  t.match(flag.stdout, /to version 3/, 'a flag wins over the project file');
  t.equal((await svc.api('GET', '/servers/web')).body.limits.timeoutMs, 900);

  writeFileSync(path.join(src, 'h.js'), 'export default (r => {');
  const broken = await runCli(['deploy'], env, dir);
  t.equal(broken.code, EXIT.invalidSource, 'a syntax error: exit 5');
  t.match(broken.stderr, /^isohttpd: 422 ISO_ERR_API_INVALID_SOURCE: .*line 1/);
  t.equal(await get(port), 'v2 /x', 'the last good version keeps serving');
  t.equal((await svc.api('GET', '/servers/web')).body.version, 3);
});

t.test('deploy FILE --name, and the other commands by name', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-named-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'api.js');
  writeFileSync(file, handler('a1'));
  const port = await freePort();

  const noPort = await runCli(['deploy', file, '--name', 'api'], env, dir);
  t.equal(noPort.code, EXIT.usage);
  t.match(noPort.stderr, /deploy of the new server api needs --port P \(or port in isohttpd\.json\)/);

  const created = await runCli(['deploy', file, '--name', 'api', '--port', String(port)], env, dir);
  t.equal(created.code, EXIT.ok, created.stderr);
  t.match(created.stdout, /^deployed api, httpdid \d+ on/);

  const moved = await runCli(['deploy', file, '--name', 'api', '--port', String(await freePort())], env, dir);
  t.equal(moved.code, EXIT.usage);
  t.match(moved.stderr, /api \(httpdid \d+\) exists; a redeploy cannot change its port \d+ \(it has \d+\): remove it first \(isohttpd rm api\)/);

  const samePort = await runCli(['deploy', file, '--name', 'api', '--port', String(port)], env, dir);
  t.equal(samePort.code, EXIT.ok, 'the same port given again is fine');
  t.match(samePort.stdout, /is up to date/);

  const show = await runCli(['show', 'api', '--json'], env, dir);
  t.equal(show.code, EXIT.ok);
  t.match(JSON.parse(show.stdout), { name: 'api', port });
  t.equal((await runCli(['logs', 'api'], env, dir)).code, EXIT.ok, 'logs by name');
  writeFileSync(file, handler('a2'));
  const updated = await runCli(['update', 'api', file], env, dir);
  t.equal(updated.code, EXIT.ok);
  t.equal(await get(port), 'a2 /x');
  const listed = await runCli(['ls', '--json'], env, dir);
  t.match(JSON.parse(listed.stdout), { servers: [{ name: 'api' }] });
  const missing = await runCli(['show', 'nope'], env, dir);
  t.equal(missing.code, EXIT.notFound);
  t.match(missing.stderr, /404 ISO_ERR_API_NOT_FOUND: no server named "nope"/);
  const rm = await runCli(['rm', 'api'], env, dir);
  t.equal(rm.code, EXIT.ok);
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0);
});

t.test('deploy without FILE and without a project file says what it wants', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runCli(['deploy'], { ISOHTTPD_URL: `http://127.0.0.1:${await freePort()}` }, dir);
  t.equal(r.code, EXIT.usage);
  t.match(r.stderr, /deploy needs FILE, or a isohttpd\.json in the current directory/);
});

t.test('two deploys of one new name at once: one creates, the other redeploys', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-race-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  writeFileSync(path.join(dir, 'h.js'), handler('r1'));
  writeFileSync(path.join(dir, 'isohttpd.json'), JSON.stringify({ name: 'race', entry: 'h.js', port }));
  const [a, b] = await Promise.all([runCli(['deploy'], env, dir), runCli(['deploy'], env, dir)]);
  t.equal(a.code, EXIT.ok, a.stderr);
  t.equal(b.code, EXIT.ok, b.stderr);
  const outs = [a.stdout, b.stdout];
  t.equal(outs.filter((o) => o.startsWith('deployed race')).length, 1, `one created: ${outs.join(' | ')}`);
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 1, 'one server');
});
