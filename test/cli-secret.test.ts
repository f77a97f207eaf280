// `isohttpd secret put|ls|rm`: the value comes from stdin (never an argument), one trailing newline dropped; ls lists names only; the handler sees the value at once; bad input is a usage error; deploy sends a project's vars.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { freePort, startService } from './helpers/service.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');
const HANDLER = "export default (request, env) => ({ version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify(env) });";

/** Runs the CLI with `input` on its stdin. */
function withStdin(args: string[], env: Record<string, string>, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

t.test('put from stdin, ls, rm', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const { port } = await svc.deploy(HANDLER, undefined, undefined, { name: 'sec' });
  const put = await withStdin(['secret', 'put', 'sec', 'DB_PASSWORD'], env, 'hunter2\n');
  t.equal(put.code, 0, put.stderr);
  t.match(put.stdout, /wrote secret DB_PASSWORD of sec; the serving version runs with it/);
  t.notMatch(put.stdout + put.stderr, /hunter2/, 'the value is not printed');
  t.same(JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()), { DB_PASSWORD: 'hunter2' }, 'the trailing newline dropped, the value at the handler');
  const two = await withStdin(['secret', 'put', 'sec', 'MULTI'], env, 'line 1\nline 2\n\n');
  t.equal(two.code, 0);
  t.equal(JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()).MULTI, 'line 1\nline 2\n', 'only one trailing newline is dropped');

  const ls = await runCli(['secret', 'ls', 'sec'], env);
  t.equal(ls.code, 0);
  t.match(ls.stdout, /^NAME\s+UPDATED\nDB_PASSWORD\s+\d{4}-\S+Z\nMULTI\s+\d{4}-\S+Z\n$/, 'names and times, no values');
  const lsJson = await runCli(['secret', 'ls', 'sec', '--json'], env);
  t.match(JSON.parse(lsJson.stdout), { secrets: [{ name: 'DB_PASSWORD' }, { name: 'MULTI' }] });

  const rm = await runCli(['secret', 'rm', 'sec', 'MULTI'], env);
  t.equal(rm.code, 0);
  t.same(JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()), { DB_PASSWORD: 'hunter2' }, 'gone from the handler');
  const rmAgain = await runCli(['secret', 'rm', 'sec', 'MULTI'], env);
  t.equal(rmAgain.code, 3, 'a missing secret: exit 3');
  t.match(rmAgain.stderr, /404 ISO_ERR_API_SECRET_NOT_FOUND: server \d+ has no secret "MULTI"/);
});

t.test('usage errors', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  await svc.deploy(HANDLER, undefined, undefined, { name: 'use' });
  for (const [args, input, message] of [
    [['secret'], '', /secret needs put, ls or rm/],
    [['secret', 'show', 'use'], '', /secret "show": use put, ls or rm/],
    [['secret', 'put', 'use'], 'x', /secret put needs NAME/],
    [['secret', 'put', 'use', 'bad-name'], 'x', /NAME must be a letter or _/],
    [['secret', 'put', 'use', 'EMPTY'], '\n', /the value of EMPTY is empty/],
    [['secret', 'put', 'use', 'BIG'], 'x'.repeat(6000), /the value of BIG is larger than 5120 bytes/],
    [['secret', 'put', 'use', 'A', 'extra'], 'x', /unexpected argument "extra"/],
  ] as const) {
    const r = await withStdin([...args], env, input);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message);
  }
  t.same((await svc.api('GET', '/servers/use/secrets')).body, { secrets: [] }, 'nothing stored');
  const help = await runCli(['secret', '--help']);
  t.match(help.stdout, /example: printf %s "\$STRIPE_KEY" \| isohttpd secret put hello STRIPE_KEY/);
});

t.test("deploy sends the project's vars", async (t) => {
  const svc = await startService(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isohttpd-vars-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  writeFileSync(path.join(dir, 'h.js'), HANDLER);
  writeFileSync(path.join(dir, 'isohttpd.json'), JSON.stringify({ name: 'withvars', entry: 'h.js', port, vars: { REGION: 'eu' } }));
  const d = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.equal(d.code, 0, d.stderr);
  t.same(JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()), { REGION: 'eu' });
  writeFileSync(path.join(dir, 'isohttpd.json'), JSON.stringify({ name: 'withvars', entry: 'h.js', port, vars: { REGION: 'us' } }));
  const again = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.match(again.stdout, /updated withvars \(httpdid \d+\) to version 2/);
  t.same(JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()), { REGION: 'us' });
  const bad = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.match(bad.stdout, /is up to date/, 'the same vars again: nothing deployed');
});
