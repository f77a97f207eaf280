// The SQLite registry: the Registry contract on a temporary data dir, then what is SQLite's own (migrations in user_version, WAL, only token hashes stored, the legacy sequence file).

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import t, { type Test } from 'tap';
import { DB_FILE, hashToken, SqliteRegistry } from '../../src/api/registry/sqlite.js';
import { resolveLimits } from '../../src/core/limits.js';
import { tempDataDir } from '../helpers/service.js';
import { registryContract } from './contract.js';

/** A fresh data dir for `t`, removed at its end. */
function dataDir(t: Test): string {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

registryContract(t, 'SqliteRegistry', async (t) => {
  const dir = dataDir(t);
  return { registry: SqliteRegistry.open(dir), reopen: async () => SqliteRegistry.open(dir), openAnother: async () => SqliteRegistry.open(dir) };
});

t.test('SqliteRegistry: migrations recorded in user_version, WAL, the tables', async (t) => {
  const dir = dataDir(t);
  const reg = SqliteRegistry.open(dir);
  t.equal(reg.schemaVersion, 8, 'migrations 001 to 008 applied');
  const peek = new DatabaseSync(path.join(dir, DB_FILE), { readOnly: true });
  t.same(peek.prepare('PRAGMA journal_mode').get(), { journal_mode: 'wal' });
  t.same(
    (peek.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name),
    ['httpdid_sequence', 'server_secrets', 'server_versions', 'servers', 'tenants'],
  );
  peek.close();
  await reg.close();

  // Reopened: nothing applied twice.
  const again = SqliteRegistry.open(dir);
  t.equal(again.schemaVersion, 8);
  await again.close();
});

t.test('SqliteRegistry: migrations 002 to 007 give the servers of a version-1 database exposeErrors false, no name, their current version kept, JavaScript, no variables, no hostnames', async (t) => {
  const dir = dataDir(t);
  const old = new DatabaseSync(path.join(dir, DB_FILE));
  old.exec(readFileSync(new URL('../../migrations/001-initial.sql', import.meta.url), 'utf8'));
  old.exec('PRAGMA user_version = 1');
  old
    .prepare(
      "INSERT INTO servers (httpdid, tenant, host, port, source, limits, replicas, state, version, created_at, updated_at) VALUES (1, 'acme', '127.0.0.1', 5001, 'src', ?, 1, 'running', 1, 'x', 'x')",
    )
    .run(JSON.stringify(resolveLimits({})));
  old.close();
  const reg = SqliteRegistry.open(dir);
  t.equal(reg.schemaVersion, 8, 'migrated to 8');
  const [row] = await reg.servers();
  t.match(
    row,
    { httpdid: 1, source: 'src', exposeErrors: false, name: null, language: 'javascript', vars: {}, hostnames: [], egress: null },
    'the stored server kept, exposeErrors false, no name (003), JavaScript (005), no variables (006), no hostnames (007), no egress (008)',
  );
  t.same(await reg.secrets(1), [], 'no secrets (006)');
  t.match(await reg.versions(1), [{ httpdid: 1, version: 1, source: 'src', exposeErrors: false }], 'its current version kept (migration 004)');
  await reg.close();
});

t.test('SqliteRegistry: only the SHA-256 of a token is stored', async (t) => {
  const dir = dataDir(t);
  const reg = SqliteRegistry.open(dir);
  const tok = await reg.addTenant('b');
  await reg.close();
  const db = new DatabaseSync(path.join(dir, DB_FILE), { readOnly: true });
  t.same(db.prepare('SELECT token_hash FROM tenants').all(), [{ token_hash: hashToken(tok) }]);
  db.close();
});

t.test('SqliteRegistry: the sequence file of earlier versions is taken over once', async (t) => {
  const dir = dataDir(t);
  const legacy = path.join(dir, 'httpdid-sequence.json');
  writeFileSync(legacy, JSON.stringify({ last: 41 }));
  const reg = SqliteRegistry.open(dir);
  t.equal(await reg.nextHttpdid(), 42, 'goes on from the file');
  t.notOk(existsSync(legacy), 'the file is renamed');
  t.ok(existsSync(`${legacy}.migrated`));
  await reg.close();
});

t.test('SqliteRegistry: a corrupt sequence file stops the open', async (t) => {
  const dir = dataDir(t);
  writeFileSync(path.join(dir, 'httpdid-sequence.json'), JSON.stringify({ last: -1 }));
  t.throws(() => SqliteRegistry.open(dir), /is corrupt/);
});

t.test('SqliteRegistry: a closed registry rejects', async (t) => {
  const reg = SqliteRegistry.open(dataDir(t));
  await reg.close();
  await t.rejects(reg.servers());
});
