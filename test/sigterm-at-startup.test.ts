// SIGTERM while the service is still starting (restoring a stored server whose address another program holds, retried for 5 s) is carried out once it has started: the same drain, exit 0 (not killed mid-restore with 143), and the server is not failed in the registry.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import t from 'tap';
import { example, startService, tempDataDir } from './helpers/service.js';
import { until } from './helpers/until.js';
import { childPids } from './helpers/workers.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

t.test('SIGTERM during start-up: started, then stopped, exit 0', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startService(t, [], {}, { dataDir });
  const { httpdid, port } = await first.deploy(example('hello.js'));
  await first.stop();
  const squatter = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => void squatter.close());

  const proc = spawn(process.execPath, [CLI, 'serve', '--api-port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ISOHTTPD_LOG_LEVEL: 'info' } });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  t.teardown(() => void proc.kill('SIGKILL'));
  // The restore is retrying the busy address (5 s) when the signal comes.
  t.ok(await until(() => childPids(proc.pid ?? 0).length >= 2, 10_000), 'starting: its workers are up');
  await new Promise((r) => setTimeout(r, 1000));
  t.notMatch(out, /API listening on/, 'not started yet when signalled');
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0');
  t.match(out, /API listening on/, 'it finished starting first');
  t.match(out, /"msg":"stopped"/, 'then stopped as a SIGTERM after start does');
  const db = new DatabaseSync(join(dataDir, 'isohttpd.sqlite'));
  t.equal((db.prepare('SELECT state FROM servers WHERE httpdid = ?').get(httpdid) as { state: string }).state, 'running', 'the server is not failed in the registry');
  db.close();
});
