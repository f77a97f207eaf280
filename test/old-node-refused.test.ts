// Started by a Node.js older than 24 (the machine's system Node, when it is older), dist/cli.js exits 2 with one line naming the Node it needs and how to run it.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

/** The first `node` on PATH outside this checkout's node_modules (npm scripts put node_modules/.bin first), or /usr/bin/node. */
function systemNode(): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== '' && !path.resolve(d).startsWith(path.join(ROOT, 'node_modules')));
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const candidate = path.join(dir, 'node');
    if (existsSync(candidate) && path.resolve(candidate) !== process.execPath) return candidate;
  }
  return undefined;
}

const node = systemNode();
const version = node === undefined ? undefined : spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
const major = version === undefined ? NaN : Number(version.split('.')[0]);

t.test(
  'an older Node gets one line and exit 2',
  { skip: node === undefined ? 'no other Node.js on this machine' : major >= 24 ? `the system Node (${version}) is not older than 24` : false },
  async (t) => {
    for (const args of [['serve', '--api-port', '0'], ['tenant', 'ls'], ['--help']]) {
      const r = spawnSync(node ?? 'node', [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
      t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
      t.equal(r.stdout, '', 'nothing on stdout');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      t.equal(lines.length, 1, `one line: ${r.stderr}`);
      t.match(lines[0], new RegExp(`^isohttpd: needs Node\\.js 24 or newer, and this is Node\\.js ${version?.replaceAll('.', '\\.') ?? ''} `), 'names both versions');
      t.match(lines[0], /npm start/, 'says how to run it');
      t.match(lines[0], /npx isohttpd/, 'says how to run it');
      t.notMatch(r.stderr, /ERR_|node:sqlite|isolated-vm|abi/, 'no loader error leaks through');
    }
  },
);
