// One instance per data dir: a second `isohttpd serve` on a data dir in use exits 2 at once, naming the holder's pid, before it touches the registry: the first instance's servers stay running and served, also across a restart of the first; `tenant` commands keep working meanwhile.

import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { example, freePort, startService, tempDataDir, tenantCli } from './helpers/service.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');

/** Runs a second `serve` on `dataDir` to its end (it must not start). */
function secondServe(dataDir: string, apiPort: number): { status: number | null; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'serve', '--api-port', String(apiPort), '--data-dir', dataDir], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr, ms: performance.now() - t0 };
}

t.test('a second instance on the same data dir exits 2 and changes nothing', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  let first = await startService(t, [], {}, { dataDir });
  const { httpdid, port } = await first.deploy(example('hello.js'));
  const second = secondServe(dataDir, await freePort());
  t.equal(second.status, 2, 'exit code 2');
  t.equal(second.stderr, `isohttpd: data dir ${dataDir} is in use by isohttpd pid ${first.proc.pid}\n`, 'names the data dir as given and the holder');
  t.ok(second.ms < 10_000, `at once (${second.ms.toFixed(0)} ms; restoring would take 5 s per server)`);
  const view = (await first.api('GET', `/servers/${httpdid}`)).body;
  t.equal(view.state, 'running', 'the first instance’s server is still running');
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'and served');
  t.equal(tenantCli(dataDir, 'ls').status, 0, '`tenant ls` works while the service runs');

  // Across a restart of the first: nothing was marked failed in the registry.
  await first.stop();
  first = await startService(t, [], {}, { dataDir });
  const again = (await first.api('GET', `/servers/${httpdid}`)).body;
  t.equal(again.state, 'running', 'restored as running after the first instance restarted');
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'and served');
  t.equal(secondServe(dataDir, await freePort()).status, 2, 'still refused while the restarted one runs');
  // The tenant commands are not the service: they work on the registry while it runs.
  t.equal(tenantCli(dataDir, 'add', 'alice').status, 0, '`tenant add` works while the service runs');
  t.match(tenantCli(dataDir, 'ls').stdout, /alice/, 'and is seen');
  t.equal(tenantCli(dataDir, 'rm', 'alice').status, 0, '`tenant rm` too');
  t.notMatch(tenantCli(dataDir, 'ls').stdout, /alice/, 'and is gone');
  await first.stop();
});

t.test('the lock dies with its holder: kill -9, then a new instance starts at once', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  const exited = new Promise((r) => first.proc.once('exit', r));
  first.proc.kill('SIGKILL');
  await exited;
  const next = await startService(t, [], {}, { dataDir });
  t.equal((await next.api('GET', '/servers')).status, 200, 'the next instance serves the API');
});

t.test('an API address in use is refused before any server is restored', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  await first.deploy(example('hello.js'));
  await first.stop();
  // Another process holds the API port: the data dir is free, the address is not.
  const other = await startService(t);
  const r = secondServe(dataDir, other.apiPort);
  t.equal(r.status, 2, 'exit code 2');
  t.match(r.stderr, /the API address .* is not available: address already in use/);
  t.notMatch(r.stderr, /server (restored|failed)/, 'no server was touched');
  const again = await startService(t, [], {}, { dataDir });
  t.equal((await again.api('GET', '/servers')).body.servers[0]?.state, 'running', 'the stored server is still running');
});
