// Three real nodes behind a real HAProxy on the public address (its configuration from `isohttpd lb haproxy --registry`): requests through the balancer reach the handler with the client's own address (PROXY v2), and a node killed with SIGKILL under load costs at most the requests in flight on it; after the lease its server is placed on a live node again.

import { Agent, request } from 'undici';
import t from 'tap';
import { PUBLIC_HOST, startCluster, TEST_TIMING, lbConfig, servedBy } from './helpers/cluster.js';
import { startHaproxy } from './helpers/haproxy.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

/** Clients sending one request after the other through the balancer, each on its own keep-alive connection. */
const CLIENTS = 8;

const HELLO = `export default function handler(req) { return { version: '1.1', statuscode: 200, headers: {}, message: 'hello ' + req.remoteipstr }; }`;

t.test('through the balancer: the client address, and a node killed under load', async (t) => {
  const cluster = await startCluster(t, 3, { proxyProtocol: { from: [`${PUBLIC_HOST}/32`] } });
  const [a] = cluster.nodes;
  if (a === undefined) throw new Error('nodes');
  const port = await freePort(PUBLIC_HOST);
  const created = await a.service.api('POST', '/servers', { host: PUBLIC_HOST, port, source: HELLO, replicas: 2 });
  t.equal(created.status, 201, 'created on two nodes');
  const httpdid = created.body.httpdid as number;

  const config = lbConfig(cluster.registryUrl);
  t.match(config, new RegExp(`bind ${PUBLIC_HOST.replace(/\./g, '\\.')}:${port}`), 'a frontend on the public address');
  const haproxy = await startHaproxy(t, config, [{ host: PUBLIC_HOST, port }]);
  const placed = await servedBy(a, httpdid);
  t.equal(placed.length, 2, 'two nodes serve it');
  // Up to 2 checks (2 s apart) before HAProxy sends to both.
  const direct = await fetch(`http://${PUBLIC_HOST}:${port}/`, { signal: AbortSignal.timeout(5000) });
  t.equal(await direct.text(), 'hello 127.0.0.1', "through HAProxy the handler sees the client's address, not the balancer's");

  const agent = new Agent({ connections: CLIENTS, pipelining: 1, keepAliveTimeout: 30_000 });
  t.teardown(() => agent.close());
  let running = true;
  let sent = 0;
  const failures: Array<{ at: number; error: string }> = [];
  const start = Date.now();
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (running) {
      try {
        const res = await request(`http://${PUBLIC_HOST}:${port}/`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
        const body = await res.body.text();
        if (res.statusCode !== 200 || body !== 'hello 127.0.0.1') failures.push({ at: Date.now() - start, error: `${res.statusCode} ${body}` });
      } catch (err) {
        failures.push({ at: Date.now() - start, error: String((err as { cause?: { code?: string } }).cause?.code ?? err) });
      }
      sent++;
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  const victim = cluster.nodes.find((n) => n.name === placed[0]);
  if (victim === undefined) throw new Error('no victim');
  const survivor = cluster.nodes.find((n) => n !== victim) ?? a;
  const sentBefore = sent;
  const killedAt = Date.now();
  const exited = new Promise((r) => victim.service.proc.once('exit', r));
  victim.service.proc.kill('SIGKILL');
  await exited;
  const replaced = await until(async () => {
    const names = await servedBy(survivor, httpdid);
    return names.length === 2 && !names.includes(victim.name);
  }, 30_000);
  const replacedMs = Date.now() - killedAt;
  // Long enough after the re-placement for HAProxy's checks to see the new node (2 checks, 2 s apart).
  await new Promise((r) => setTimeout(r, 5000));
  running = false;
  await Promise.all(clients);
  t.ok(replaced, `re-placed on two live nodes ${replacedMs} ms after the kill (lease ${TEST_TIMING.leaseMs} ms)`);
  t.ok(sent - sentBefore > 100, `requests went on through the balancer (${sent} in all, ${sent - sentBefore} after the kill)`);
  t.ok(failures.length <= CLIENTS, `failed requests at most one per client in flight on the killed node: ${failures.length} of ${sent} (${JSON.stringify(failures.slice(0, 10))})`);
  t.comment(JSON.stringify({ sent, failed: failures.length, replacedMs, failures: failures.map((f) => `${f.at}:${f.error}`) }));
  t.notOk(/ALERT/.test(haproxy.output()), 'HAProxy raised no alert');
});
