// Start-up configuration: flags over environment over schema defaults; bad values stop the service with a clear message.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/api/control/config.js';

t.test('defaults, env and flags', async (t) => {
  const d = loadConfig([], {});
  t.match(d, { apiHost: '127.0.0.1', apiPort: 7070, dataDir: './data', allowedHosts: ['127.0.0.1', '::1', 'localhost'], portMin: 1024, portMax: 65535 });
  t.ok(Object.isFrozen(d), 'frozen');
  const e = loadConfig([], { ISOHTTPD_API_HOST: '::1', ISOHTTPD_API_PORT: '9000', ISOHTTPD_DATA_DIR: '/tmp/x' });
  t.match(e, { apiHost: '::1', apiPort: 9000, dataDir: '/tmp/x' });
  const f = loadConfig(['--api-port', '9001', '--data-dir', 'd'], { ISOHTTPD_API_PORT: '9000' });
  t.match(f, { apiPort: 9001, dataDir: 'd' }, 'flags win over the environment');
});

t.test('the registry: SQLite in the data dir by default, a PostgreSQL URL from the flag, the environment or the file; another scheme refused naming it without its password', async (t) => {
  t.match(loadConfig([], {}), { registry: '', registryPoolSize: 10 }, 'default: SQLite, a pool of 10 for PostgreSQL');
  t.match(loadConfig([], { ISOHTTPD_REGISTRY_URL: 'postgres://u@db/isohttpd' }), { registry: 'postgres://u@db/isohttpd' });
  t.match(loadConfig(['--registry', 'postgresql://u@db2/x'], { ISOHTTPD_REGISTRY_URL: 'postgres://u@db/isohttpd' }), { registry: 'postgresql://u@db2/x' }, 'the flag wins');
  t.throws(
    () => loadConfig(['--registry', 'mysql://u:secret@db/x'], {}),
    new ConfigError('config.registry "mysql://u:***@db/x" is not a registry: give a postgres:// or postgresql:// URL, or nothing for SQLite in the data dir'),
  );
  t.throws(() => loadConfig(['--registry', '/var/lib/x.sqlite'], {}), /config\.registry "\/var\/lib\/x\.sqlite" is not a registry/);
});

t.test('bad configuration', async (t) => {
  t.throws(() => loadConfig(['--api-port', 'x'], {}), new ConfigError('--api-port must be a whole number, got "x"'));
  t.throws(() => loadConfig(['--api-port', '70000'], {}), /config\.apiPort must be <= 65535/);
  t.throws(() => loadConfig([], { ISOHTTPD_API_PORT: '-1' }), /ISOHTTPD_API_PORT must be a whole number/);
  t.throws(() => loadConfig(['--nope'], {}), /Unknown option '--nope'/);
});

t.test('the command exits 2 with the message', async (t) => {
  const cli = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'serve', '--api-port', 'abc'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.equal(r.stderr, 'isohttpd: --api-port must be a whole number, got "abc"\n');
  const u = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  t.equal(u.status, 2);
  t.match(u.stderr, /unknown command "frobnicate"/);
  const h = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  t.equal(h.status, 0);
  t.match(h.stdout, /usage: isohttpd serve/);
});
