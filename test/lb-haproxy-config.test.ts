// The HAProxy configuration generator (src/api/lb/haproxy-config.ts): one frontend per public address, the nodes as servers with send-proxy-v2 and a /healthz check, or (cluster mode) a TCP connect on each port; inputs it refuses; checked by `haproxy -c` when installed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { HaproxyInputError, haproxyAddress, haproxyConfig, type HaproxyInput, type LbConnectNode, type LbNode } from '../src/api/lb/haproxy-config.js';
import { haproxyBinary } from './helpers/haproxy.js';

const INPUT: HaproxyInput = {
  servers: [
    { httpdid: 3, host: '127.0.0.1', port: 9000, state: 'running' },
    { httpdid: 1, host: '127.0.0.1', port: 8080, state: 'running' },
    // Virtual hosts: two servers on one address make one frontend.
    { httpdid: 2, host: '127.0.0.1', port: 8080, state: 'running' },
    { httpdid: 4, host: '127.0.0.1', port: 9100, state: 'failed' },
  ],
  nodes: [
    { name: 'a', address: '127.0.0.2', apiAddress: '127.0.0.2', apiPort: 7070 },
    { name: 'b', address: '127.0.0.3', apiAddress: '127.0.0.3', apiPort: 7071 },
  ],
  bindAddress: '127.0.0.10',
  sourceAddress: '127.0.0.10',
  origin: 'http://127.0.0.2:7070/servers',
};

t.test('a frontend and a backend per distinct public address, failed servers left out', async (t) => {
  const cfg = haproxyConfig(INPUT);
  t.equal(cfg.match(/^frontend /gm)?.length, 2, 'two frontends (8080 shared, 9000)');
  t.match(cfg, /frontend fe_127_0_0_1_8080\n {4}bind 127\.0\.0\.10:8080\n {4}default_backend be_127_0_0_1_8080/);
  t.match(cfg, /# servers 1, 2 at 127\.0\.0\.1:8080/, 'the servers of a shared address named');
  t.notMatch(cfg, /9100/, 'the failed server has no frontend');
  t.ok(cfg.indexOf(':8080') < cfg.indexOf(':9000'), 'sorted by port');
  t.match(cfg, /^\s+mode tcp$/m);
  t.match(cfg, /^\s+source 127\.0\.0\.10$/m, 'connects to the nodes from the balancer address');
});

t.test('each node a server with send-proxy-v2, checked with GET /healthz on its API port', async (t) => {
  const cfg = haproxyConfig(INPUT);
  t.match(cfg, /^\s+option httpchk GET \/healthz$/m);
  t.match(cfg, /^\s+default-server inter 2000ms fall 2 rise 2 send-proxy-v2$/m);
  t.match(cfg, /^\s+server a 127\.0\.0\.2:8080 check port 7070$/m);
  t.match(cfg, /^\s+server b 127\.0\.0\.3:9000 check port 7071$/m);
  t.match(cfg, /^\s+balance leastconn$/m);
});

t.test('the local service: each server on its own host, the check on the API address', async (t) => {
  const cfg = haproxyConfig({ ...INPUT, nodes: [{ name: 'local', address: null, apiAddress: '127.0.0.5', apiPort: 7070 }], bindAddress: null, sourceAddress: null });
  t.match(cfg, /^\s+bind 127\.0\.0\.1:8080$/m, 'bound on the server host');
  t.match(cfg, /^\s+server local 127\.0\.0\.1:8080 check addr 127\.0\.0\.5 port 7070$/m);
  t.notMatch(cfg, /^\s+source /m, 'no source address');
});

t.test('IPv6 addresses in HAProxy syntax; the same input gives the same text', async (t) => {
  t.equal(haproxyAddress('::1', 80), 'ipv6@::1:80');
  t.equal(haproxyAddress('[2001:db8::1]', 443), 'ipv6@2001:db8::1:443');
  t.equal(haproxyAddress('10.0.0.1', 8080), '10.0.0.1:8080');
  t.equal(haproxyConfig(INPUT), haproxyConfig({ ...INPUT, servers: [...INPUT.servers].reverse() }));
});

t.test('haproxy -c accepts the configuration', { skip: haproxyBinary() === null ? 'haproxy is not installed' : false }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbcfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig({ ...INPUT, servers: [...INPUT.servers, { httpdid: 9, host: '::1', port: 8443, state: 'running' }] }));
  const r = spawnSync(haproxyBinary() ?? 'haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  t.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

/** Cluster mode's nodes: checked by a TCP connect on each server's port of their address. */
const CONNECT_NODES: LbConnectNode[] = [
  { name: 'a', address: '10.0.0.2', check: 'connect' },
  { name: 'b', address: '10.0.0.3', check: 'connect' },
  { name: 'c', address: '10.0.0.4', check: 'connect' },
];

t.test('connect checks: every node in every backend on that very port, no httpchk, no port', async (t) => {
  const cfg = haproxyConfig({ ...INPUT, nodes: CONNECT_NODES });
  t.notMatch(cfg, /httpchk|http-check/, 'no HTTP check');
  t.notMatch(cfg, / port \d/, "no check port: the check connects to the server line's own port");
  for (const port of [8080, 9000]) for (const n of CONNECT_NODES) t.match(cfg, new RegExp(`^ {4}server ${n.name} ${n.address.replaceAll('.', '\\.')}:${port} check$`, 'm'), `${n.name} on ${port}`);
  t.match(cfg, /^ {4}default-server inter 2000ms fall 2 rise 2 send-proxy-v2 observe layer4 error-limit 1 on-error mark-down$/m, 'PROXY v2 on the traffic; a refused connection marks the node down');
  t.match(cfg, /^ {4}option redispatch 1$/m, 'each retry on another node');
  t.match(cfg, /^ {4}retries 2$/m, 'as many tries as nodes');
  t.equal(haproxyConfig({ ...INPUT, nodes: [...CONNECT_NODES, { name: 'd', address: '10.0.0.5', check: 'connect' }] }).match(/^ {4}retries 3$/gm)?.length, 2, 'one more node, one more retry');
  t.match(cfg, /TCP connect on each port: placements and failovers need no reload/, 'the header says so');
});

t.test('with --bind, two public hosts on one port share one frontend; served on their own hosts they cannot', async (t) => {
  const servers = [
    { httpdid: 1, host: '192.0.2.1', port: 8080, state: 'running' },
    { httpdid: 2, host: '192.0.2.2', port: 8080, state: 'running' },
  ];
  const cfg = haproxyConfig({ ...INPUT, servers, nodes: CONNECT_NODES });
  t.equal(cfg.match(/^frontend /gm)?.length, 1, 'one frontend');
  t.match(cfg, /# servers 1, 2 at 192\.0\.2\.1:8080, 192\.0\.2\.2:8080\nfrontend fe_192_0_2_1_8080\n {4}bind 127\.0\.0\.10:8080\n/);
  t.equal(haproxyConfig({ ...INPUT, servers, nodes: CONNECT_NODES, bindAddress: null }).match(/^frontend /gm)?.length, 2, 'without --bind, each host its frontend');
  t.throws(
    () => haproxyConfig({ ...INPUT, servers, nodes: [{ name: 'local', address: null, apiAddress: '127.0.0.1', apiPort: 7070 }] }),
    HaproxyInputError,
    'the local service serves each on its own host',
  );
});

t.test('without httpdids (the registry lists addresses) the comment names the address only', async (t) => {
  const cfg = haproxyConfig({ ...INPUT, servers: [{ host: '192.0.2.1', port: 8080, state: 'running' }], nodes: CONNECT_NODES });
  t.match(cfg, /^# 192\.0\.2\.1:8080\nfrontend /m);
});

t.test('inputs no configuration can be made of are refused', async (t) => {
  const refused = (input: HaproxyInput, message: RegExp, name: string): void => {
    t.throws(() => haproxyConfig(input), { name: 'HaproxyInputError', message }, name);
  };
  refused({ ...INPUT, nodes: [{ name: 'a b', address: '10.0.0.2', check: 'connect' }] }, /not an HAProxy server name/, 'a name with a blank');
  refused({ ...INPUT, nodes: [{ name: 'x\n    bind 0.0.0.0:22', address: '10.0.0.2', check: 'connect' }] }, /not an HAProxy server name/, 'a name with a line break');
  refused({ ...INPUT, nodes: [CONNECT_NODES[0] as LbConnectNode, CONNECT_NODES[0] as LbConnectNode] }, /two nodes are named "a"/, 'two nodes of one name');
  refused({ ...INPUT, nodes: [{ name: 'a', address: 'node-a.example', check: 'connect' }] }, /not an IP address/, 'a node address that is a name');
  refused({ ...INPUT, nodes: [CONNECT_NODES[2] as LbConnectNode, ...(INPUT.nodes as LbNode[])] }, /mix checks/, 'two kinds of check');
  refused({ ...INPUT, servers: [{ httpdid: 1, host: '127.0.0.1\n#', port: 80, state: 'running' }] }, /is not an address/, 'a host with a line break');
});

t.test('haproxy -c accepts the configuration of connect checks', { skip: haproxyBinary() === null ? 'haproxy is not installed' : false }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbcfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig({ ...INPUT, nodes: [...CONNECT_NODES, { name: 'v6', address: '2001:db8::7', check: 'connect' }] }));
  const r = spawnSync(haproxyBinary() ?? 'haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  t.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
