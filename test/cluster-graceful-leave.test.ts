// A node stopped gracefully (SIGTERM) hands its servers over before it stops: it leaves the cluster at once (no lease to wait for), the next leader places its servers on a live node, and that node serves them before the leaving one exits.

import t from 'tap';
import { hit, PUBLIC_HOST, startCluster, textHandler } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

t.test('SIGTERM: served elsewhere before the node exits', async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  if (a === undefined || b === undefined) throw new Error('nodes');
  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('handed over'), replicas: 1 });
  t.equal(created.status, 201, 'created');
  const [placed] = (created.body.cluster.nodes as Array<{ name: string }>).map((n) => n.name);
  const leaving = cluster.nodes.find((n) => n.name === placed);
  const staying = cluster.nodes.find((n) => n.name !== placed);
  if (leaving === undefined || staying === undefined) throw new Error('placement');
  t.ok('error' in (await hit(staying.address, port)), `node ${staying.name} does not serve it yet`);

  let exitedAt = 0;
  const exited = new Promise<void>((r) =>
    leaving.service.proc.once('exit', () => {
      exitedAt = Date.now();
      r();
    }),
  );
  let servedAt = 0;
  const watching = until(
    async () => {
      const got = await hit(staying.address, port);
      if ('status' in got && got.body === 'handed over' && servedAt === 0) servedAt = Date.now();
      return servedAt !== 0;
    },
    20_000,
    20,
  );
  leaving.service.proc.kill('SIGTERM');
  t.ok(await watching, `node ${staying.name} serves it`);
  await exited;
  t.ok(servedAt > 0 && servedAt <= exitedAt, `served by node ${staying.name} before node ${leaving.name} exited (${exitedAt - servedAt} ms before)`);
  const info = await staying.service.api('GET', '/cluster');
  t.equal(info.body.nodes.find((n: { name: string }) => n.name === leaving.name)?.live, false, 'the node that left is not live');
  t.equal(info.body.nodes.find((n: { name: string }) => n.name === leaving.name)?.sinceMs, null, 'it left gracefully (no heartbeat age)');
});
