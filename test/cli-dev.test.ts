// `isohttpd dev FILE`: an embedded service on a temporary data dir serves the handler at once, redeploys it on each save, keeps the last good version (printing the error with its code frame) when a save does not compile, prints each request as the tail does, and Ctrl-C stops everything and removes its data dir.

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { spawnCli, watchCli } from './helpers/cli.js';
import { freePort } from './helpers/service.js';

const version = (v: string): string => `export default function handler(request) {
  console.log('serving ${v} ' + request.path);
  return { version: '1.1', statuscode: 200, headers: {}, message: '${v}' };
}
`;

const body = async (port: number, p = '/'): Promise<string> => (await fetch(`http://127.0.0.1:${port}${p}`)).text();

/** The isohttpd-dev-* data dirs in the temp dir now. */
const devDirs = (): string[] => readdirSync(os.tmpdir()).filter((d) => d.startsWith('isohttpd-dev-'));

t.test('serve, redeploy on save, keep the last good version, tail, stop', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isohttpd-devtest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'handler.js');
  writeFileSync(file, version('v1'));
  const port = await freePort();
  const before = new Set(devDirs());
  const proc = spawnCli(['dev', file, '--port', String(port)]);
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const out = watchCli(proc, 20_000);
  await out.until(new RegExp(`serving handler \\(.*handler\\.js\\) on http://127\\.0\\.0\\.1:${port}/`), 'the URL', 'all');
  t.equal(await body(port), 'v1', 'serves the file as it is');
  const mine = devDirs().filter((d) => !before.has(d));
  t.equal(mine.length, 1, 'one temporary data dir');

  await out.until(/200 ok {2}GET \/ {2}[\d.]+ ms[^\n]*\n {4}log {4}serving v1 \//, 'the request in the tail, with its console line', 'all');

  writeFileSync(file, version('v2'));
  await out.until(/redeployed handler \(version 2\)/, 'the redeploy', 'all');
  t.equal(await body(port), 'v2', 'the saved version serves');

  // Several quick saves: one redeploy, of the last.
  writeFileSync(file, version('v3a'));
  writeFileSync(file, version('v3b'));
  writeFileSync(file, version('v3'));
  await out.until(/redeployed handler \(version 3\)/, 'one redeploy for the burst', 'all');
  t.equal(await body(port), 'v3');
  t.notMatch(out.all(), /version 4/, 'debounced: not one per write');

  writeFileSync(file, "export default function handler(request) {\n  return { version: '1.1', statuscode: 200 headers: {}, message: 'broken' };\n}\n");
  await out.until(/version 3 \(the last good one\) serves on/, 'the error', 'all');
  t.match(out.all(), /handler\.js: .*SyntaxError.*at line 2, column \d+/, 'the error with its position');
  t.match(out.all(), /> 2 \| {3}return \{ version: '1\.1', statuscode: 200 headers/, 'the code frame marks the line');
  t.match(out.all(), / {4}\| +\^\n/, 'and a caret');
  t.equal(await body(port), 'v3', 'the last good version still serves');

  writeFileSync(file, version('v4'));
  await out.until(/redeployed handler \(version 4\)/, 'fixed: deployed again', 'all');
  t.equal(await body(port), 'v4');

  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGINT');
  t.equal(await exited, 0, 'Ctrl-C: exit 0');
  t.match(out.all(), /isohttpd dev: stopped/);
  t.notOk(existsSync(path.join(os.tmpdir(), mine[0] ?? 'none')), 'its data dir is removed');
  await t.rejects(fetch(`http://127.0.0.1:${port}/`), 'nothing serves the port any more');
});

t.test('usage', async (t) => {
  const run = (args: string[], cwd?: string): Promise<{ code: number | null; text: string }> =>
    new Promise((resolve) => {
      const p = spawnCli(args, {}, cwd);
      const c = watchCli(p);
      void c.exit.then((code) => resolve({ code, text: c.all() }));
    });
  const help = await run(['dev', '--help']);
  t.equal(help.code, 0);
  t.match(help.text, /usage: isohttpd dev \[FILE\][\s\S]*example: isohttpd dev handler\.js --port 8787/);
  const empty = mkdtempSync(path.join(os.tmpdir(), 'isohttpd-devtest-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const none = await run(['dev'], empty);
  t.equal(none.code, 2);
  t.match(none.text, /dev needs FILE, or a isohttpd\.json in the current directory/);
  const missing = await run(['dev', path.join(empty, 'nope.js')]);
  t.equal(missing.code, 2);
  t.match(missing.text, /cannot read .*nope\.js: ENOENT/);
});
