// The JSON config file (--config / ISOHTTPD_CONFIG): precedence flags > env > file > defaults; a bad file or value exits 2 naming the option.

import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/api/control/config.js';
import { tempDataDir } from './helpers/service.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.js');

t.test('precedence and merging', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ apiPort: 8000, apiHost: '::1', dataDir: '/from/file', reservedPorts: [9000], workerRssLimitMb: 900, quotas: { memoryMb: 1000 }, rateLimit: { max: 7 } }));
  const c = loadConfig(['--config', file], {});
  t.match(c, { apiPort: 8000, apiHost: '::1', dataDir: '/from/file', reservedPorts: [9000], workerRssLimitMb: 900 });
  t.same(c.quotas, { maxServers: 100, maxSourceBytes: 1048576, memoryMb: 1000, versionsKept: 10 }, 'nested objects merge over the defaults');
  t.same(c.rateLimit, { max: 7, timeWindowMs: 60000 });
  t.ok(Object.isFrozen(c.quotas) && Object.isFrozen(c.reservedPorts), 'frozen');
  const e = loadConfig(['--config', file], { ISOHTTPD_API_PORT: '8001' });
  t.equal(e.apiPort, 8001, 'env over file');
  t.equal(e.apiHost, '::1');
  const f = loadConfig(['--config', file, '--api-port', '8002'], { ISOHTTPD_API_PORT: '8001' });
  t.equal(f.apiPort, 8002, 'flag over env');
  t.equal(loadConfig([], { ISOHTTPD_CONFIG: file }).apiPort, 8000, 'ISOHTTPD_CONFIG');
  const d = loadConfig([], {});
  t.same(d.quotas, { maxServers: 100, maxSourceBytes: 1048576, memoryMb: 8192, versionsKept: 10 }, 'defaults');
  t.same(d.rateLimit, { max: 6000, timeWindowMs: 60000 });
  t.same(d.reservedPorts, []);
  t.equal(d.workerRssLimitMb, 0, 'the worker RSS ceiling is automatic by default');
});

t.test('bad config files', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  t.throws(() => loadConfig(['--config', path.join(dir, 'missing.json')], {}), /^--config ".*missing\.json" cannot be read/);
  t.throws(() => loadConfig(['--config', write('a.json', '{nope')], {}), /is not valid JSON/);
  t.throws(() => loadConfig(['--config', write('b.json', '[1]')], {}), /must hold a JSON object/);
  t.throws(() => loadConfig(['--config', write('c.json', '{"apiPort": "x"}')], {}), new ConfigError('config.apiPort must be an integer'));
  t.throws(() => loadConfig(['--config', write('d.json', '{"quotas": {"maxServers": -1}}')], {}), /^config\.quotas\.maxServers must be >= 0$/);
  t.throws(() => loadConfig(['--config', write('e.json', '{"rateLimit": {"burst": 1}}')], {}), /^config\.rateLimit\.burst is not an allowed field$/);
  t.throws(() => loadConfig(['--config', write('f.json', '{"reservedPorts": [70000]}')], {}), /^config\.reservedPorts\["0"\] must be <= 65535$/);
  t.throws(() => loadConfig(['--config', write('g.json', '{"nope": 1}')], {}), /^config\.nope is not an allowed field$/);
  t.throws(() => loadConfig(['--config', write('g2.json', '{"workerRssLimitMb": -1}')], {}), /^config\.workerRssLimitMb must be >= 0$/);

  const r = spawnSync(process.execPath, [CLI, 'serve', '--config', write('h.json', '{"quotas": {"memoryMb": "lots"}}'), '--data-dir', dir], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.equal(r.stderr, 'isohttpd: config.quotas.memoryMb must be an integer\n');
});
