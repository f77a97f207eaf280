// `npm start` runs the service as the process npm waits for (`exec`): SIGTERM to npm's pid reaches the service, which drains and exits; nothing is left running and the API port is free.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { childPids } from './helpers/workers.js';
import { freePort, tempDataDir } from './helpers/service.js';
import { isRefused } from './helpers/raw-http.js';

const ROOT = path.resolve(import.meta.dirname, '..');

t.test('SIGTERM to npm start stops the service', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const apiPort = await freePort();
  const npm = spawn('npm', ['start', '--', '--api-port', String(apiPort), '--data-dir', dataDir, '--workers', '1'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ISOHTTPD_LOG_LEVEL: 'info' },
  });
  let out = '';
  npm.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  npm.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
  for (let i = 0; i < 200 && !/API listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(out, /API listening on/, 'the service started under npm');
  // npm's child is the service itself (no shell in between).
  const service = childPids(npm.pid ?? 0);
  t.equal(service.length, 1, 'npm has one child');
  t.equal((await fetch(`http://127.0.0.1:${apiPort}/servers`)).status, 200, 'the API answers');
  npm.kill('SIGTERM');
  const code = await exited;
  t.equal(code, 0, 'npm exits 0 (the service exited 0)');
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = service.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same(left, [], 'the service process is gone');
  t.ok(await isRefused(apiPort), 'the API port is free');
  t.match(out, /"msg":"stopped"/, 'it stopped gracefully');
});
