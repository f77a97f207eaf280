// The SQLite registry on its own: migrations recorded in user_version, WAL + synchronous=FULL, the sequence, server rows and updateServer, tenants by token hash.

import { rmSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import t from 'tap';
import { DB_FILE, hashToken, SqliteRegistry as Registry } from '../src/api/registry/sqlite.js';
import { resolveLimits } from '../src/core/limits.js';
import { tempDataDir } from './helpers/service.js';

t.test('migrations, pragmas, servers, tenants', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const reg = Registry.open(dir);
  t.equal(reg.schemaVersion, 1, 'migration 001 applied');
  const peek = new DatabaseSync(path.join(dir, DB_FILE), { readOnly: true });
  t.same(peek.prepare('PRAGMA journal_mode').get(), { journal_mode: 'wal' });
  t.same(
    (peek.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name),
    ['httpdid_sequence', 'servers', 'tenants'],
  );
  peek.close();

  t.equal(reg.nextHttpdid(), 1);
  t.equal(reg.nextHttpdid(), 2);
  const limits = resolveLimits({ memoryMb: 32 });
  t.ok(
    reg.insertServer({ httpdid: 2, tenant: 'acme', host: '127.0.0.1', port: 5001, source: 'v1', limits, replicas: 1, state: 'running', createdAt: '2026-01-01T00:00:00.000Z' }),
    'stored while no tenant exists (open default tenant)',
  );
  const [row] = reg.servers();
  t.match(row, { httpdid: 2, tenant: 'acme', source: 'v1', version: 1, state: 'running', reason: null, createdAt: '2026-01-01T00:00:00.000Z' });
  t.same(row?.limits, limits);

  const updated = reg.updateServer(2, { source: 'v2', version: 2 });
  t.match(updated, { source: 'v2', version: 2, limits });
  t.not(updated?.updatedAt, row?.updatedAt, 'updatedAt changes');
  const l2 = resolveLimits({ memoryMb: 16 });
  t.match(reg.updateServer(2, { limits: l2, version: 3 }), { source: 'v2', version: 3, limits: l2 }, 'limits alone');
  t.equal(reg.updateServer(99, { source: 'x', version: 2 }), undefined, 'no such server');
  reg.setServerState(2, 'failed', 'because');
  t.match(reg.serversOf('acme')[0], { state: 'failed', reason: 'because' });
  t.same(reg.serversOf('other'), []);

  t.equal(reg.hasTenants(), false);
  const token = reg.addTenant('acme', { maxServers: 5 });
  t.equal(reg.hasTenants(), true);
  t.match(reg.tenantByToken(token), { name: 'acme', quotas: { maxServers: 5 } });
  t.equal(reg.tenantByToken(`${token}x`), undefined);
  t.throws(() => reg.addTenant('acme'), /tenant "acme" already exists/);
  t.notOk(
    reg.insertServer({ httpdid: 7, tenant: 'gone', host: '127.0.0.1', port: 5002, source: 'v1', limits, replicas: 1, state: 'running', createdAt: '2026-01-01T00:00:00.000Z' }),
    'not stored for a tenant that does not exist (once tenants exist)',
  );
  t.throws(() => reg.addTenant('-x'), /invalid tenant name/);
  t.same(reg.removeTenant('acme'), { removed: false, servers: [2] }, 'refused while it has servers');
  t.ok(reg.deleteServer(2));
  t.notOk(reg.deleteServer(2), 'already gone');
  t.same(reg.removeTenant('acme'), { removed: true });
  t.same(reg.removeTenant('acme'), { removed: false, missing: true });
  reg.close();

  // Reopened: nothing applied twice, the sequence goes on, only hashes are stored.
  const again = Registry.open(dir);
  t.equal(again.schemaVersion, 1);
  t.equal(again.nextHttpdid(), 3);
  const tok = again.addTenant('b');
  again.close();
  const db = new DatabaseSync(path.join(dir, DB_FILE), { readOnly: true });
  t.same(db.prepare('SELECT token_hash FROM tenants').all(), [{ token_hash: hashToken(tok) }]);
  db.close();
});
