// A leader that hangs (SIGSTOP: its process and heartbeats stop, its database session and so the leader lock stay) is cut off by the next node that finds it out of its lease: another node leads and places new servers; the old one, resumed, no longer leads.

import t from 'tap';
import { hit, PUBLIC_HOST, servedBy, startCluster, type TestNode, textHandler } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

async function leads(n: TestNode): Promise<boolean> {
  const r = await n.service.api('GET', '/cluster');
  return r.status === 200 && r.body.leader === true;
}

t.test('a hung leader is cut off; another node leads and places', async (t) => {
  const cluster = await startCluster(t, 3);
  const flags = await Promise.all(cluster.nodes.map(leads));
  const leader = cluster.nodes[flags.indexOf(true)];
  if (leader === undefined) throw new Error('no leader');
  const others = cluster.nodes.filter((n) => n !== leader);
  leader.service.proc.kill('SIGSTOP');
  t.teardown(() => leader.service.proc.kill('SIGCONT'));
  t.ok(await until(async () => (await Promise.all(others.map(leads))).some(Boolean), 30_000), 'another node leads');
  const port = await freePort(PUBLIC_HOST);
  const via = others[0];
  if (via === undefined) throw new Error('no node');
  const created = await via.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('placed'), replicas: 2 });
  t.ok(created.status === 201 || created.status === 202, `created (${created.status})`);
  const httpdid = created.body.httpdid as number;
  t.ok(
    await until(async () => {
      const ready = await servedBy(via, httpdid);
      return ready.length === 2 && !ready.includes(leader.name);
    }, 30_000),
    'placed on the two live nodes',
  );
  for (const n of others) t.same(await hit(n.address, port), { status: 200, body: 'placed' }, `node ${n.name} serves it`);
  t.match(via.service.output() + (others[1]?.service.output() ?? ''), /out of its lease but holds the leader lock/, 'the stale leader session was terminated, and logged');

  leader.service.proc.kill('SIGCONT');
  t.ok(await until(async () => !(await leads(leader)), 20_000), 'resumed, the old leader does not lead');
  const now = await Promise.all(cluster.nodes.map(leads));
  t.equal(now.filter(Boolean).length, 1, 'exactly one leader');
});
