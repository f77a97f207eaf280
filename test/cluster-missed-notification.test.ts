// A change whose notification never came (written to the database with no NOTIFY, as if lost): the nodes' periodic full reconcile finds it and serves it.

import pg from 'pg';
import t from 'tap';
import { hit, PUBLIC_HOST, startCluster, TEST_TIMING, textHandler } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

t.test('a redeploy with its notification lost is served after the periodic reconcile', async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  if (a === undefined || b === undefined) throw new Error('nodes');
  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('before'), replicas: 2 });
  t.equal(created.status, 201, 'created');
  const httpdid = created.body.httpdid as number;
  for (const n of [a, b]) t.same(await hit(n.address, port), { status: 200, body: 'before' }, `node ${n.name} serves it`);

  // The redeploy as the API writes it, but with no pg_notify: no node is told.
  const client = new pg.Client({ connectionString: cluster.registryUrl });
  await client.connect();
  t.teardown(() => client.end());
  const now = new Date().toISOString();
  await client.query('BEGIN');
  const r = await client.query<{ version: number; limits: string }>('UPDATE servers SET source = $1, version = version + 1, updated_at = $2 WHERE httpdid = $3 RETURNING version, limits', [
    textHandler('after'),
    now,
    httpdid,
  ]);
  const row = r.rows[0];
  if (row === undefined) throw new Error('no row');
  await client.query("INSERT INTO server_versions (httpdid, version, source, language, limits, expose_errors, vars, egress, created_at) VALUES ($1, $2, $3, 'javascript', $4, false, '{}', NULL, $5)", [
    httpdid,
    row.version,
    textHandler('after'),
    row.limits,
    now,
  ]);
  await client.query('COMMIT');
  const at = Date.now();
  for (const n of [a, b]) {
    t.ok(
      await until(async () => {
        const got = await hit(n.address, port);
        return 'status' in got && got.body === 'after';
      }, 4 * TEST_TIMING.reconcileMs),
      `node ${n.name} serves the new version without being told`,
    );
  }
  t.comment(`both served it ${Date.now() - at} ms after the write (full reconcile every ${TEST_TIMING.reconcileMs} ms)`);
  const view = await b.service.api('GET', `/servers/${httpdid}`);
  t.equal(view.body.version, 2, 'version 2');
  t.equal(view.body.cluster.ready, true, 'both nodes report it');
});
