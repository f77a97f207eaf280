// The PostgreSQL registry: the Registry contract on a real throwaway PostgreSQL (a database per subtest), then what is PostgreSQL's own (migrations once under an advisory lock, several nodes starting at once, 503 while the database is down, reconnecting).

import pg from 'pg';
import t from 'tap';
import { PostgresRegistry } from '../../src/api/registry/postgres.js';
import { startPostgres } from '../helpers/postgres.js';
import { registryContract } from './contract.js';

const cluster = await startPostgres(t);

registryContract(t, 'PostgresRegistry', async () => {
  const url = await cluster.createDatabase();
  return { registry: await PostgresRegistry.open(url), reopen: async () => PostgresRegistry.open(url), openAnother: async () => PostgresRegistry.open(url, { poolSize: 3 }) };
});

t.test('PostgresRegistry: five nodes opening a new database at once migrate it exactly once (the cluster tables too); the schema is recorded in schema_migrations', async (t) => {
  const url = await cluster.createDatabase();
  const regs = await Promise.all(Array.from({ length: 5 }, () => PostgresRegistry.open(url, { poolSize: 2 })));
  try {
    t.same(
      regs.map((r) => r.schemaVersion),
      [3, 3, 3, 3, 3],
      'each sees version 3',
    );
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      t.same(
        (await c.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows,
        [
          { version: 1, name: '001-initial.sql' },
          { version: 2, name: '002-admission.sql' },
          { version: 3, name: '003-cluster.sql' },
        ],
        'each applied once',
      );
      const indexes = await c.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'servers_by_address'");
      t.match(
        indexes.rows.map((r) => r.indexdef),
        [/ON public\.servers USING btree \(host, port\)/],
        'the admission reads the address through its index (002)',
      );
      const tables = await c.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      t.same(
        tables.rows.map((r) => r.tablename),
        ['cluster_nodes', 'cluster_placements', 'cluster_reports', 'schema_migrations', 'server_secrets', 'server_versions', 'servers', 'tenants'],
      );
    } finally {
      await c.end();
    }
  } finally {
    await Promise.all(regs.map((r) => r.close()));
  }
  const again = await PostgresRegistry.open(url);
  t.equal(again.schemaVersion, 3, 'opened again: nothing applied twice');
  await again.close();
});

t.test('PostgresRegistry: an unreachable database refuses the open with ISO_ERR_API_REGISTRY_UNAVAILABLE', async (t) => {
  const { freePort } = await import('../helpers/service.js');
  const port = await freePort();
  await t.rejects(PostgresRegistry.open(`postgres://postgres@127.0.0.1:${port}/none`), { code: 'ISO_ERR_API_REGISTRY_UNAVAILABLE', status: 503 });
});

t.test('PostgresRegistry: a closed registry rejects', async (t) => {
  const reg = await PostgresRegistry.open(await cluster.createDatabase());
  await reg.close();
  await t.rejects(reg.servers());
});

// Last: it stops the shared cluster for a moment.
t.test('PostgresRegistry: while the database is down every call rejects with ISO_ERR_API_REGISTRY_UNAVAILABLE; once it is back the pool connects again', async (t) => {
  const reg = await PostgresRegistry.open(await cluster.createDatabase());
  t.teardown(() => reg.close());
  const token = await reg.addTenant('acme');
  t.ok(
    await reg.insertServer({
      httpdid: await reg.nextHttpdid(),
      tenant: 'acme',
      host: '127.0.0.1',
      port: 5001,
      source: 's',
      limits: (await import('../../src/core/limits.js')).resolveLimits({}),
      exposeErrors: false,
      replicas: 1,
      state: 'running',
      createdAt: new Date().toISOString(),
    }),
  );
  await cluster.stop();
  const unavailable = { code: 'ISO_ERR_API_REGISTRY_UNAVAILABLE', status: 503, message: /registry database cannot be reached/ };
  await t.rejects(reg.nextHttpdid(), unavailable, 'nextHttpdid');
  await t.rejects(reg.tenantByToken(token), unavailable, 'tenantByToken');
  await t.rejects(reg.servers(), unavailable, 'servers');
  await t.rejects(reg.removeTenant('acme'), unavailable, 'removeTenant (a transaction)');
  await t.rejects(reg.updateServer(1, { source: 'x', version: 2 }), unavailable, 'updateServer (a transaction)');
  await cluster.start();
  t.match(await reg.tenantByToken(token), { name: 'acme' }, 'connected again');
  t.match(await reg.servers(), [{ httpdid: 1, source: 's' }], 'what was committed before is there');
  t.equal(await reg.nextHttpdid(), 2, 'the sequence goes on');
});
