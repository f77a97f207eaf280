// The command the README and docs/operations.md give a process manager (`node_modules/.bin/node dist/cli.js serve`), run as systemd would, with only the system's PATH: the service runs on the project's Node.js 24, whatever the system's node is, and stops on SIGTERM with exit 0.

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDataDir } from './helpers/service.js';
import { until } from './helpers/until.js';

const ROOT = join(import.meta.dirname, '..');

t.test("the process manager's command runs on the project's Node.js 24", async (t) => {
  const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  t.match(docs, /ExecStart=\/opt\/isohttpd\/node_modules\/\.bin\/node \/opt\/isohttpd\/dist\/cli\.js serve/, 'the systemd unit gives this command');
  t.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /`node_modules\/\.bin\/node dist\/cli\.js serve --data-dir\s+\/var\/lib\/isohttpd`/, 'the README too');
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // systemd's default PATH: the system's node (older here) would be the one `#!/usr/bin/env node` finds.
  const proc = spawn(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'dist/cli.js'), 'serve', '--api-port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  t.teardown(() => void proc.kill('SIGKILL'));
  t.ok(await until(() => /API listening on/.test(out), 20_000), `started (${out.slice(0, 200)})`);
  t.match(out, /API listening on \S+ \(Node\.js 24\.\d+\.\d+,/, "on the project's Node.js 24");
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: exit 0');
});
