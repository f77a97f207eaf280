// Cluster mode end to end on three real nodes and a real PostgreSQL: a deploy through one node placed on `replicas` nodes and served on each node's address, every node's API answering for it, a hot redeploy and a secret converging on every placed node, a bad source refused before anything is stored, concurrent creations of one address through two nodes (exactly one 201), a delete releasing the port everywhere.

import t from 'tap';
import { hit, PUBLIC_HOST, startCluster } from './helpers/cluster.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

const handler = (text: string): string =>
  `export default function handler(req, env) { return { version: '1.1', statuscode: 200, headers: {}, message: ${JSON.stringify(text)} + (env.GREETING ?? '') }; }`;

t.test('three nodes: placement, any node answers, redeploy, secret, delete', async (t) => {
  const cluster = await startCluster(t, 3);
  const [a, b, c] = cluster.nodes;
  if (a === undefined || b === undefined || c === undefined) throw new Error('three nodes');
  const byName = new Map(cluster.nodes.map((n) => [n.name, n]));

  const info = await a.service.api('GET', '/cluster');
  t.equal(info.status, 200, 'GET /cluster');
  t.equal(info.body.nodes.length, 3, 'three nodes known');
  t.ok(
    info.body.nodes.every((n: { live: boolean }) => n.live),
    'all live',
  );
  const leaders = await Promise.all(cluster.nodes.map(async (n) => (await n.service.api('GET', '/cluster')).body.leader as boolean));
  t.equal(leaders.filter(Boolean).length, 1, 'exactly one node leads');

  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: handler('v1'), replicas: 2, name: 'web' });
  t.equal(created.status, 201, `created through node a (${created.status})`);
  const httpdid = created.body.httpdid as number;
  t.equal(created.body.host, PUBLIC_HOST, 'its host is the public address');
  t.equal(created.body.cluster.ready, true, 'ready');
  const placed = (created.body.cluster.nodes as Array<{ name: string; address: string; state: string; version: number }>).map((n) => n.name);
  t.equal(placed.length, 2, 'placed on two nodes');
  t.ok(
    created.body.cluster.nodes.every((n: { state: string; version: number }) => n.state === 'ready' && n.version === 1),
    'each placed node serves version 1',
  );
  for (const name of placed) {
    const node = byName.get(name);
    t.same(await hit(node?.address ?? '', port), { status: 200, body: 'v1' }, `node ${name} serves it on its own address`);
  }
  const unplaced = cluster.nodes.find((n) => !placed.includes(n.name));
  t.ok(unplaced !== undefined && 'error' in (await hit(unplaced.address, port)), 'the third node does not listen on the port');

  for (const n of [b, c]) {
    const got = await n.service.api('GET', '/servers/web');
    t.equal(got.status, 200, `node ${n.name} answers for it by name`);
    t.equal(got.body.httpdid, httpdid);
  }
  const listed = await c.service.api('GET', '/servers');
  t.same(
    listed.body.servers.map((s: { httpdid: number }) => s.httpdid),
    [httpdid],
    'listed through node c',
  );

  const bad = await b.service.api('PUT', `/servers/${httpdid}`, { source: 'export default function handler( {' });
  t.equal(bad.status, 422, 'a source that does not compile is refused (checked before anything is stored)');
  t.equal((await a.service.api('GET', `/servers/${httpdid}`)).body.version, 1, 'the version is unchanged');

  const put = await b.service.api('PUT', `/servers/${httpdid}`, { source: handler('v2') });
  t.equal(put.status, 200, `redeployed through node b (${put.status})`);
  t.equal(put.body.version, 2);
  t.ok(
    put.body.cluster.nodes.every((n: { state: string; version: number }) => n.state === 'ready' && n.version === 2),
    'every placed node reports version 2',
  );
  for (const name of placed) t.same(await hit(byName.get(name)?.address ?? '', port), { status: 200, body: 'v2' }, `node ${name} serves version 2`);

  const secret = await c.service.api('PUT', `/servers/${httpdid}/secrets/GREETING`, { value: '!' });
  t.equal(secret.status, 200, 'a secret written through node c');
  for (const name of placed) t.same(await hit(byName.get(name)?.address ?? '', port), { status: 200, body: 'v2!' }, `node ${name} serves with the secret`);
  const secrets = await a.service.api('GET', `/servers/${httpdid}/secrets`);
  t.same(
    secrets.body.secrets.map((s: { name: string }) => s.name),
    ['GREETING'],
    'its name listed through node a (never the value)',
  );

  const versions = await c.service.api('GET', `/servers/${httpdid}/versions`);
  t.same(
    versions.body.versions.map((v: { version: number }) => v.version),
    [2, 1],
    'both versions kept',
  );
  const rolled = await a.service.api('POST', `/servers/${httpdid}/rollback`, {});
  t.equal(rolled.status, 200, 'rolled back through node a');
  t.equal(rolled.body.version, 3, 'as version 3');
  for (const name of placed) t.same(await hit(byName.get(name)?.address ?? '', port), { status: 200, body: 'v1!' }, `node ${name} serves the rolled-back source`);

  const del = await c.service.api('DELETE', `/servers/${httpdid}`);
  t.equal(del.status, 204, 'deleted through node c');
  for (const name of placed) {
    const node = byName.get(name);
    t.ok(await until(async () => 'error' in (await hit(node?.address ?? '', port)), 10_000), `node ${name} released the port`);
  }
  t.equal((await b.service.api('GET', `/servers/${httpdid}`)).status, 404, 'gone for every node');
});

t.test('concurrent creations of one address through two nodes: exactly one 201', async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  if (a === undefined || b === undefined) throw new Error('two nodes');
  for (let round = 0; round < 5; round++) {
    const port = await freePort(PUBLIC_HOST);
    const body = { host: PUBLIC_HOST, port, source: handler(`r${round}`) };
    const answers = await Promise.all([a.service.api('POST', '/servers', body), b.service.api('POST', '/servers', body)]);
    const statuses = answers.map((r) => r.status).sort();
    t.same(statuses, [201, 409], `round ${round}: one created, one refused (${JSON.stringify(answers.map((r) => r.body.error?.code ?? r.body.httpdid))})`);
    const refused = answers.find((r) => r.status === 409);
    t.equal(refused?.body.error.code, 'ISO_ERR_API_ADDRESS_IN_USE', 'the address is in use');
  }
  const listed = await a.service.api('GET', '/servers');
  t.equal(listed.body.servers.length, 5, 'five servers stored, one per address');

  const named = await Promise.all([
    a.service.api('POST', '/servers', { host: PUBLIC_HOST, port: await freePort(PUBLIC_HOST), source: handler('n'), name: 'same' }),
    b.service.api('POST', '/servers', { host: PUBLIC_HOST, port: await freePort(PUBLIC_HOST), source: handler('n'), name: 'same' }),
  ]);
  t.same(named.map((r) => r.status).sort(), [201, 409], 'one name, two nodes: one created');
});
