// `--help` on every command prints that command's usage, what it does and an example (exit 0, nothing sent to the API); `isohttpd --version`; `isohttpd serve --help`; every limit of schemas/limits.json has its flag.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { EXIT, runCli } from './helpers/cli.js';
import { freePort } from './helpers/service.js';

const COMMANDS = ['init', 'deploy', 'ls', 'show', 'logs', 'update', 'rm', 'restart', 'versions', 'rollback'];

t.test('COMMAND --help: its own usage and an example', async (t) => {
  // Nothing listens there: --help must not call the API.
  const env = { ISOHTTPD_URL: `http://127.0.0.1:${await freePort()}` };
  for (const c of COMMANDS) {
    const r = await runCli([c, '--help'], env);
    t.equal(r.code, EXIT.ok, `${c} --help exits 0`);
    t.match(r.stdout, new RegExp(`^usage: isohttpd ${c}\\b`), `${c}: its usage first`);
    t.match(r.stdout, new RegExp(`\\nexample: isohttpd ${c}\\b`), `${c}: an example`);
    t.match(r.stdout, /--url U/, `${c}: the global options`);
    t.equal(r.stderr, '');
    for (const other of COMMANDS.filter((o) => o !== c)) t.notMatch(r.stdout, new RegExp(`usage: isohttpd ${other}\\b`), `${c} --help is not ${other}'s`);
  }
});

t.test('deploy and update --help list a flag for every limit', async (t) => {
  const limits = Object.keys((JSON.parse(readFileSync(new URL('../schemas/limits.json', import.meta.url), 'utf8')) as { properties: object }).properties);
  t.ok(limits.length >= 15, `${limits.length} limits`);
  for (const c of ['deploy', 'update']) {
    const r = await runCli([c, '--help']);
    for (const name of limits) {
      const flag = name.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`);
      t.match(r.stdout, new RegExp(`--${flag} [NX] +${name}`), `${c}: --${flag}`);
    }
  }
});

t.test('--version and serve --help', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const v = await runCli(['--version']);
  t.equal(v.code, 0);
  t.equal(v.stdout, `isohttpd ${pkg.version} (Node.js ${process.versions.node})\n`);
  const s = await runCli(['serve', '--help']);
  t.equal(s.code, 0, 'serve --help is not an unknown option');
  t.match(s.stdout, /^usage: isohttpd serve /);
  t.equal(s.stderr, '');
});
