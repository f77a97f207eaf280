// TypeScript handlers: `language: "typescript"` sources are stripped of their types before they run, with the TypeScript lines and columns in stacks and errors; syntax strip mode cannot erase is a 422 with its position; the source kept and shown is the TypeScript; `isohttpd deploy FILE.ts` sends it as TypeScript; a restart restores it.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort, startService, tempDataDir } from './helpers/service.js';

// The throw is on line 6, column 11 of this source (types before it on the same line).
const TS = `interface Reply { statuscode: number }
type Dict = { path: string };
export default function handler(r: Dict): Reply & Record<string, unknown> {
  const n: number = 1;
  if (r.path === '/boom') {
    const e: Error = new Error('boom ' + n); throw e;
  }
  return { version: '1.1', statuscode: 200, headers: {}, message: 'typed ' + r.path };
}
`;

t.test('deploy, serve, stacks at the TypeScript lines, the source kept as written', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc = await startService(t, [], {}, { dataDir });
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { name: 'typed', host: '127.0.0.1', port, source: TS, language: 'typescript' });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal(created.body.language, 'typescript');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/x`)).text(), 'typed /x');
  t.equal((await fetch(`http://127.0.0.1:${port}/boom`)).status, 500);
  let stack = '';
  for (let i = 0; i < 50 && stack === ''; i++) {
    const logs = await svc.api('GET', '/servers/typed/logs');
    stack = (logs.body.lines as Array<{ stack?: string }>).find((l) => l.stack !== undefined)?.stack ?? '';
    if (stack === '') await new Promise((r) => setTimeout(r, 50));
  }
  t.match(stack, /handler\.ts:6:22/, `the frame is the TypeScript file, line and column: ${stack}`);
  t.equal((await svc.api('GET', '/servers/typed?source=1')).body.source, TS, 'the TypeScript is what is kept and shown');
  const versions = await svc.api('GET', '/servers/typed/versions?source=1');
  t.match(versions.body.versions, [{ version: 1, language: 'typescript', source: TS }]);
  t.equal((await svc.api('PUT', '/servers/typed', { source: TS, language: 'typescript' })).body.version, 1, 'the same TypeScript again: nothing changes');
  const js = await svc.api('PUT', '/servers/typed', { source: "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'js' });", language: 'javascript' });
  t.equal(js.body.version, 2);
  t.equal(js.body.language, 'javascript');
  const back = await svc.api('POST', '/servers/typed/rollback', {});
  t.equal(back.body.language, 'typescript', 'a rollback brings the language back with the source');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/y`)).text(), 'typed /y');
  await svc.stop();
  const again = await startService(t, [], {}, { dataDir });
  t.equal(await (await fetch(`http://127.0.0.1:${port}/z`)).text(), 'typed /z', 'restored after a restart, stripped again');
  t.equal((await again.api('GET', '/servers/typed')).body.language, 'typescript');
});

t.test('what strip mode cannot erase, and TypeScript syntax errors, are 422 with their position', async (t) => {
  const svc = await startService(t);
  const cases: Array<[string, RegExp]> = [
    [
      'const a = 1;\n\nenum Color { Red }\nexport default () => ({});',
      /TypeScript: TypeScript enum is not supported in strip-only mode \(use a plain const object or union type instead\) at line 3, column 1/,
    ],
    ['export default function (a: ) { return a; }', /TypeScript: Unexpected token `\)`.* at line 1, column 29/],
    ['namespace N { export const x = 1; }\nexport default () => ({});', /TypeScript: .*namespace.* at line 1/],
  ];
  for (const [source, message] of cases) {
    const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source, language: 'typescript' });
    t.equal(r.status, 422, source.split('\n')[0] ?? '');
    t.match(r.body, { error: { code: 'ISO_ERR_API_INVALID_SOURCE', message } });
  }
  const bad = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: TS, language: 'coffeescript' });
  t.equal(bad.status, 400);
  const asJs = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: TS });
  t.equal(asJs.status, 422, 'TypeScript sent as JavaScript (the default) does not compile');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 0);
});

t.test('isohttpd deploy FILE.ts, and the shipped example', async (t) => {
  const svc = await startService(t);
  const env = { ISOHTTPD_URL: svc.url };
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-ts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'h.ts');
  writeFileSync(file, TS);
  const port = await freePort();
  const r = await runCli(['deploy', file, '--name', 'tsfile', '--port', String(port)], env);
  t.equal(r.code, EXIT.ok, r.stderr);
  t.equal((await svc.api('GET', '/servers/tsfile')).body.language, 'typescript', 'the extension says TypeScript');
  t.equal(await (await fetch(`http://127.0.0.1:${port}/cli`)).text(), 'typed /cli');
  const same = await runCli(['deploy', file, '--name', 'tsfile'], env);
  t.match(same.stdout, /is up to date/);
  const example = new URL('../examples/hello.ts', import.meta.url).pathname;
  const ex = await runCli(['deploy', example, '--port', String(await freePort()), '--json'], env);
  t.equal(ex.code, EXIT.ok, ex.stderr);
  const view = JSON.parse(ex.stdout) as { port: number };
  t.equal(await (await fetch(`http://127.0.0.1:${view.port}/hi`)).text(), 'Hello from isohttpd in TypeScript! You asked for /hi\n');
  t.ok(readFileSync(example, 'utf8').includes("import type { Env, RequestDict, ResponseDict } from '../types/isohttpd.js'"), 'the example types itself with the shipped types');
});
