// Failover on three real nodes: a node killed with SIGKILL loses its placements after the lease and its servers are served by another node (the time from the kill measured), the leader killed while a deploy waits for its placement, and twenty random kills (each node restarted after) with no acknowledged server lost.

import t from 'tap';
import { hit, PUBLIC_HOST, type TestCluster, type TestNode, startCluster, TEST_TIMING, servedBy, textHandler } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

/** How many random kills the last test makes (ISOHTTPD_TEST_KILLS to change it). */
const KILLS = Number(process.env['ISOHTTPD_TEST_KILLS'] ?? 20);

/** The live node, other than `not`, to call the API through. */
function other(cluster: TestCluster, not: readonly TestNode[]): TestNode {
  const n = cluster.nodes.find((x) => !not.includes(x));
  if (n === undefined) throw new Error('no other node');
  return n;
}

function kill(node: TestNode): Promise<void> {
  const exited = new Promise<void>((r) => node.service.proc.once('exit', () => r()));
  node.service.proc.kill('SIGKILL');
  return exited;
}

t.test('a node killed: its server re-placed on a live node after the lease', async (t) => {
  const cluster = await startCluster(t, 3);
  const a = cluster.nodes[0];
  if (a === undefined) throw new Error('nodes');
  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('hello') });
  t.equal(created.status, 201, 'created');
  const httpdid = created.body.httpdid as number;
  const [firstName] = await servedBy(a, httpdid);
  const victim = cluster.nodes.find((n) => n.name === firstName);
  if (victim === undefined) throw new Error('placed nowhere');
  t.same(await hit(victim.address, port), { status: 200, body: 'hello' }, `served by node ${victim.name}`);
  const via = other(cluster, [victim]);
  const killedAt = Date.now();
  await kill(victim);
  let successor: TestNode | undefined;
  const moved = await until(async () => {
    const names = await servedBy(via, httpdid);
    successor = cluster.nodes.find((n) => n !== victim && names.includes(n.name));
    return successor !== undefined;
  }, 30_000);
  const replacedMs = Date.now() - killedAt;
  t.ok(moved, 'placed on another live node');
  t.comment(`re-placed ${replacedMs} ms after the kill (lease ${TEST_TIMING.leaseMs} ms, heartbeat ${TEST_TIMING.heartbeatMs} ms)`);
  t.same(await hit(successor?.address ?? '', port), { status: 200, body: 'hello' }, `served by node ${successor?.name}`);
  const info = await via.service.api('GET', '/cluster');
  t.equal(info.body.nodes.find((n: { name: string }) => n.name === victim.name)?.live, false, 'the killed node is not live');

  await victim.restart();
  t.ok(await until(async () => (await victim.service.api('GET', '/cluster')).body.nodes.filter((n: { live: boolean }) => n.live).length === 3, 20_000), 'the node restarted and joined again');
  // Rendezvous may move it back to the restarted node: it is served all along (make before break).
  t.ok(await until(async () => (await servedBy(via, httpdid)).length === 1, 20_000), 'placed on one node');
  const [nowName] = await servedBy(via, httpdid);
  const now = cluster.nodes.find((n) => n.name === nowName);
  t.same(await hit(now?.address ?? '', port), { status: 200, body: 'hello' }, 'still served');
});

t.test('the leader killed while a deploy waits for its placement', async (t) => {
  const cluster = await startCluster(t, 3);
  const leaders = await Promise.all(cluster.nodes.map(async (n) => ({ n, leads: (await n.service.api('GET', '/cluster')).body.leader as boolean })));
  const leader = leaders.find((x) => x.leads)?.n;
  if (leader === undefined) throw new Error('no leader');
  const via = other(cluster, [leader]);
  const port = await freePort(PUBLIC_HOST);
  const answer = via.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler('after the leader'), replicas: 2 });
  await kill(leader);
  const created = await answer;
  t.ok(created.status === 201 || created.status === 202, `acknowledged (${created.status})`);
  const httpdid = created.body.httpdid as number;
  t.ok(await until(async () => (await servedBy(via, httpdid)).length === 2, 30_000), 'a new leader placed it on the two live nodes');
  const names = await servedBy(via, httpdid);
  t.notOk(names.includes(leader.name), 'not on the dead leader');
  for (const name of names) {
    const n = cluster.nodes.find((x) => x.name === name);
    t.same(await hit(n?.address ?? '', port), { status: 200, body: 'after the leader' }, `served by node ${name}`);
  }
  const led = await Promise.all(cluster.nodes.filter((n) => n !== leader).map(async (n) => (await n.service.api('GET', '/cluster')).body.leader as boolean));
  t.equal(led.filter(Boolean).length, 1, 'exactly one of the survivors leads');
});

t.test(`${KILLS} random kills: no acknowledged server lost`, async (t) => {
  const cluster = await startCluster(t, 3);
  const a = cluster.nodes[0];
  if (a === undefined) throw new Error('nodes');
  const servers: Array<{ httpdid: number; port: number; text: string }> = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort(PUBLIC_HOST);
    const text = `server ${i}`;
    const r = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: textHandler(text), replicas: 1 + (i % 2) });
    t.equal(r.status, 201, `server ${i} created`);
    servers.push({ httpdid: r.body.httpdid as number, port, text });
  }
  const replaced: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const victim = cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)];
    if (victim === undefined) continue;
    const via = other(cluster, [victim]);
    const at = Date.now();
    await kill(victim);
    // Every server is served again by a live node, with its own text.
    const whole = await until(async () => {
      for (const s of servers) {
        const names = await servedBy(via, s.httpdid);
        const live = cluster.nodes.filter((n) => n !== victim && names.includes(n.name));
        if (live.length === 0) return false;
        for (const n of live) {
          const got = await hit(n.address, s.port);
          if (!('status' in got) || got.body !== s.text) return false;
        }
      }
      return true;
    }, 30_000);
    replaced.push(Date.now() - at);
    if (!whole) t.fail(`kill ${k + 1} (node ${victim.name}): some server was not served again`);
    await victim.restart();
    await until(async () => (await victim.service.api('GET', '/cluster')).body.nodes.filter((n: { live: boolean }) => n.live).length === 3, 20_000);
  }
  const listed = await a.service.api('GET', '/servers');
  t.same(
    (listed.body.servers as Array<{ httpdid: number }>).map((s) => s.httpdid).sort((x, y) => x - y),
    servers.map((s) => s.httpdid),
    `after ${KILLS} kills every acknowledged server is still stored`,
  );
  replaced.sort((x, y) => x - y);
  t.comment(`served again after each kill: median ${replaced[Math.floor(replaced.length / 2)]} ms, max ${replaced[replaced.length - 1]} ms (lease ${TEST_TIMING.leaseMs} ms)`);
});
