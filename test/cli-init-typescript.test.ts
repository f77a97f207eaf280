// `isohttpd init DIR --typescript`: handler.ts with the handler types beside it; it type-checks under tsc --strict, passes its own test under `node --test` (Node 24 strips its types), deploys as TypeScript, reads env, and its exception's stack in the tail names handler.ts at the right line.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { tail } from './helpers/follow.js';
import { freePort, startService } from './helpers/service.js';

const TSC = path.resolve(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: stdout + stderr }));
  });
}

t.test('a TypeScript project from init to a tailed exception', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'isohttpd-init-ts-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'typed');
  const port = await freePort();
  const r = await runCli(['init', dir, '--port', String(port), '--typescript']);
  t.equal(r.code, EXIT.ok, r.stderr);
  for (const f of ['handler.ts', 'isohttpd.d.ts', 'isohttpd.json', 'handler.test.mjs']) t.ok(existsSync(path.join(dir, f)), f);
  t.same(JSON.parse(readFileSync(path.join(dir, 'isohttpd.json'), 'utf8')), { name: 'typed', entry: 'handler.ts', port });

  const checked = await run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'handler.ts'], dir);
  t.equal(checked.code, 0, `tsc --strict accepts it:\n${checked.out}`);
  const tested = await run(process.execPath, ['--test'], dir);
  t.equal(tested.code, 0, `node --test passes:\n${tested.out}`);
  t.match(tested.out, /pass 3\b/);

  const svc = await startService(t);
  const deployed = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.equal(deployed.code, EXIT.ok, deployed.stderr);
  const shown = (await svc.api('GET', '/servers/typed')).body;
  t.equal(shown.language, 'typescript', 'deployed as TypeScript');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'Hello from typed!\n');

  // An exception two lines into the handler: the tail names handler.ts at that line.
  const text = readFileSync(path.join(dir, 'handler.ts'), 'utf8');
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('export default function handler'));
  lines.splice(at + 1, 0, "  if (request.path === '/boom') throw new Error('typed boom');");
  writeFileSync(path.join(dir, 'handler.ts'), lines.join('\n'));
  const redeployed = await runCli(['deploy'], { ISOHTTPD_URL: svc.url }, dir);
  t.match(redeployed.stdout, /updated typed \(httpdid \d+\) to version 2/);
  const f = await tail(svc.url, 'typed');
  t.equal((await fetch(`http://127.0.0.1:${port}/boom`)).status, 500);
  await f.waitFor((l) => l.some((e) => (e as { kind: string }).kind === 'request'), 10_000, 'the failed request');
  const e = f.lines.find((x) => (x as { kind: string }).kind === 'request') as { stack: string };
  t.match(e.stack, new RegExp(`handler\\.ts:${at + 2}:39`), `the throw at line ${at + 2} of handler.ts: ${e.stack}`);
  f.response.destroy();
});
