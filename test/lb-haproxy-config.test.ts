// The HAProxy configuration generator (src/api/lb/haproxy-config.ts): one frontend per public address, the nodes as servers with send-proxy-v2 and a /healthz check; checked by `haproxy -c` when installed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { haproxyAddress, haproxyConfig, type HaproxyInput } from '../src/api/lb/haproxy-config.js';
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
