// `isohttpd init [DIR]`: writes handler.js, isohttpd.json and handler.test.mjs; the test passes under `node --test`; `isohttpd deploy` in DIR serves it; a second init refuses to overwrite and changes nothing.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';

function nodeTest(cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--test'], { cwd, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: stdout + stderr }));
  });
}

t.test('init, its own test, then deploy', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'isohttpd-init-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'My App_2');
  const port = await freePort();
  const r = await runCli(['init', dir, '--port', String(port)]);
  t.equal(r.code, EXIT.ok, r.stderr);
  for (const f of ['handler.js', 'isohttpd.json', 'handler.test.mjs']) t.ok(existsSync(path.join(dir, f)), f);
  t.match(r.stdout, /wrote .*handler\.js\n/);
  t.match(
    r.stdout,
    new RegExp(`next: cd .* && node --test && isohttpd dev   \\(a local loop; then isohttpd deploy: server my-app-2 on port ${port}\\)`),
    'the name from the directory, made a DNS label',
  );
  t.same(JSON.parse(readFileSync(path.join(dir, 'isohttpd.json'), 'utf8')), { name: 'my-app-2', entry: 'handler.js', port });

  const tested = await nodeTest(dir);
  t.equal(tested.code, 0, `node --test passes:\n${tested.out}`);
  t.match(tested.out, /pass 3\b/);
  t.match(tested.out, /fail 0\b/);

  const svc = await startService(t);
  const deployed = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.equal(deployed.code, EXIT.ok, deployed.stderr);
  t.match(deployed.stdout, /^deployed my-app-2, httpdid \d+/);
  const res = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(res.status, 200);
  t.equal(await res.text(), 'Hello from my-app-2!\n');
  const echo = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'ping' });
  t.equal(await echo.text(), 'ping');
  t.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
});

t.test('init refuses to overwrite, and writes nothing then', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-init-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'isohttpd.json'), 'mine');
  const r = await runCli(['init', dir, '--name', 'x1']);
  t.equal(r.code, EXIT.usage);
  t.match(r.stderr, /isohttpd\.json exists; init writes only new files/);
  t.equal(readFileSync(path.join(dir, 'isohttpd.json'), 'utf8'), 'mine', 'the existing file untouched');
  t.notOk(existsSync(path.join(dir, 'handler.js')), 'and nothing half-written');
  const bad = await runCli(['init', dir, '--name', 'Bad_Name']);
  t.equal(bad.code, EXIT.usage);
  t.match(bad.stderr, /--name must be lower case letters/);
  const json = await runCli(['init', path.join(dir, 'sub'), '--json']);
  t.equal(json.code, EXIT.ok);
  t.match(JSON.parse(json.stdout), { name: 'sub', port: 8080, files: [/handler\.js$/, /isohttpd\.json$/, /handler\.test\.mjs$/] });
});
