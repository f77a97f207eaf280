// PostgreSQL restarted under load in cluster mode: the nodes serve on with the database down (no request fails), the API answers 503 ISO_ERR_API_REGISTRY_UNAVAILABLE meanwhile, and once it is back the API works again and the nodes catch up (a server created then is placed and served).

import t from 'tap';
import { hit, PUBLIC_HOST, startCluster, textHandler } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

t.test('the registry database restarted under load', async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  if (a === undefined || b === undefined) throw new Error('nodes');
  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('steady'), replicas: 2 });
  t.equal(created.status, 201, 'created on both nodes');

  let sent = 0;
  const failures: string[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) {
      for (const n of [a, b]) {
        const r = await hit(n.address, port);
        sent++;
        if (!('status' in r) || r.status !== 200 || r.body !== 'steady') failures.push(`${n.name}: ${JSON.stringify(r)}`);
      }
    }
  })();

  await cluster.pg.stop();
  const down = await b.service.api('POST', '/servers', { host: PUBLIC_HOST, port: await freePort(PUBLIC_HOST), source: textHandler('x') });
  t.equal(down.status, 503, 'a creation with the database down: 503');
  t.equal(down.body.error.code, 'ISO_ERR_API_REGISTRY_UNAVAILABLE', 'with the registry code');
  const listed = await a.service.api('GET', '/servers');
  t.equal(listed.status, 503, 'a listing: 503 too');
  t.equal((await a.service.api('GET', '/healthz')).status, 200, '/healthz still answers (the node serves)');
  // Longer than the lease: nobody may drop what it serves while nobody can heartbeat.
  await new Promise((r) => setTimeout(r, 3000));
  const whileDown = sent;
  await cluster.pg.start();

  const port2 = await freePort(PUBLIC_HOST);
  let after: Awaited<ReturnType<typeof a.service.api>> | undefined;
  t.ok(
    await until(async () => {
      after = await b.service.api('POST', '/servers', { host: PUBLIC_HOST, port: port2, source: textHandler('after'), replicas: 2 });
      return after.status === 201 || after.status === 202 || after.status === 409;
    }, 30_000),
    'the API works again once the database is back',
  );
  const httpdid2 = after?.status === 409 ? undefined : (after?.body.httpdid as number);
  t.ok(httpdid2 !== undefined, `created (${after?.status})`);
  t.ok(
    await until(async () => {
      const got = await Promise.all([hit(a.address, port2), hit(b.address, port2)]);
      return got.every((g) => 'status' in g && g.body === 'after');
    }, 30_000),
    'the nodes caught up: the new server is served on both',
  );
  loading = false;
  await load;
  t.ok(whileDown > 0, `requests were answered while the database was down (${sent} in all)`);
  t.same(failures, [], 'no request failed, before, during or after the restart');
  const nodes = (await a.service.api('GET', '/cluster')).body.nodes as Array<{ live: boolean }>;
  t.ok(
    nodes.every((n) => n.live),
    'both nodes heart-beat again',
  );
});
