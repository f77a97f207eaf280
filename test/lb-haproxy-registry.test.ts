// `isohttpd lb haproxy --registry URL` on a real PostgreSQL registry: the configuration of every tenant's addresses (failed servers left out, a shared address one frontend) and of every node that has not left (an expired lease kept), checked by a TCP connect on each port; `haproxy -c` accepts it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { PostgresRegistry } from '../src/api/registry/postgres.js';
import { resolveLimits } from '../src/core/limits.js';
import { EXIT, runCli } from './helpers/cli.js';
import { haproxyBinary } from './helpers/haproxy.js';
import { startPostgres } from './helpers/postgres.js';

const cluster = await startPostgres(t);

/** A fresh registry (migrated by PostgresRegistry.open) and a plain connection for cluster_nodes rows; both closed at teardown. */
async function registry(t: Test): Promise<{ url: string; reg: PostgresRegistry; db: pg.Client }> {
  const url = await cluster.createDatabase();
  const reg = await PostgresRegistry.open(url, { poolSize: 2 });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(async () => {
    await db.end();
    await reg.close();
  });
  return { url, reg, db };
}

/** Stores server `httpdid` of `tenant` at `host:port`. */
async function addServer(reg: PostgresRegistry, httpdid: number, host: string, port: number, change: { state?: 'running' | 'failed'; tenant?: string; hostnames?: string[] } = {}): Promise<void> {
  const stored = await reg.insertServer({
    httpdid,
    tenant: change.tenant ?? 'acme',
    host,
    port,
    hostnames: change.hostnames ?? [],
    source: 'export default () => ({ statuscode: 200 });',
    limits: resolveLimits({}),
    exposeErrors: false,
    replicas: 1,
    state: change.state ?? 'running',
    reason: change.state === 'failed' ? 'test' : null,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  if (!stored) throw new Error(`server ${httpdid} not stored`);
}

/** A cluster_nodes row as a node's heartbeat writes it: live now, its lease long expired, or gone (a graceful leave). */
async function addNode(db: pg.Client, name: string, address: string, seen: 'live' | 'expired' | 'left'): Promise<void> {
  const lastSeen = seen === 'live' ? 'now()' : seen === 'expired' ? "now() - interval '1 hour'" : "'-infinity'";
  await db.query(`INSERT INTO cluster_nodes (name, address, api_url, last_seen) VALUES ($1, $2, $3, ${lastSeen})`, [name, address, `http://${address}:7070`]);
}

t.test('the addresses of every tenant and the nodes not gone, in a deterministic text', async (t) => {
  const { url, reg, db } = await registry(t);
  await addServer(reg, 1, '192.0.2.10', 8080, { hostnames: ['a.example'] });
  // Virtual hosts of two tenants on one address: one frontend.
  await addServer(reg, 2, '192.0.2.10', 8080, { tenant: 'other', hostnames: ['b.example'] });
  await addServer(reg, 3, '192.0.2.10', 9000, { state: 'failed' });
  await addServer(reg, 4, '192.0.2.10', 8443, { tenant: 'other' });
  await addNode(db, 'b', '10.0.0.3', 'expired');
  await addNode(db, 'a', '10.0.0.2', 'live');
  await addNode(db, 'c', '10.0.0.4', 'left');

  const r = await runCli(['lb', 'haproxy', '--registry', url, '--bind', '127.0.0.10', '--source', '127.0.0.10']);
  t.equal(r.code, EXIT.ok, r.stderr);
  t.equal(r.stderr, '', 'nothing on stderr');
  const cfg = r.stdout;
  t.equal(cfg.match(/^frontend /gm)?.length, 2, 'two frontends: 8080 (two servers) and 8443; the failed 9000 left out');
  t.notMatch(cfg, /9000/, 'no trace of the failed server');
  t.ok(cfg.indexOf(':8080') < cfg.indexOf(':8443'), 'sorted by port');
  t.match(cfg, /^# 192\.0\.2\.10:8080\nfrontend fe_192_0_2_10_8080\n {4}bind 127\.0\.0\.10:8080\n {4}default_backend be_192_0_2_10_8080\n/m, 'the address named, no httpdids');
  t.match(
    cfg,
    /^backend be_192_0_2_10_8443\n {4}balance leastconn\n {4}option redispatch 1\n {4}retries 2\n {4}default-server inter 2000ms fall 2 rise 2 send-proxy-v2 observe layer4 error-limit 1 on-error mark-down\n {4}server a 10\.0\.0\.2:8443 check\n {4}server b 10\.0\.0\.3:8443 check\n$/m,
    'every node, by name, on that very port: a, and b whose lease expired; not c, which left',
  );
  t.notMatch(cfg, /10\.0\.0\.4|server c /, 'the node that left is not listed');
  t.notMatch(cfg, /httpchk|http-check| port \d|check-send-proxy/, 'a plain TCP connect check on the server line');
  t.match(cfg, new RegExp(`^# HAProxy configuration written by \`isohttpd lb haproxy\` from the registry postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/t\\d+:$`, 'm'), 'the origin');
  t.match(cfg, /^ {4}source 127\.0\.0\.10$/m);

  // The same rows give the same text; a server joining an address already served changes nothing (no reload for it).
  await addServer(reg, 5, '192.0.2.10', 8443, { tenant: 'third', hostnames: ['c.example'] });
  const again = await runCli(['lb', 'haproxy', '--registry', url, '--bind', '127.0.0.10', '--source', '127.0.0.10']);
  t.equal(again.stdout, cfg, 'the same text');
  // A node joining does change it.
  await addNode(db, 'd', '10.0.0.5', 'live');
  const joined = await runCli(['lb', 'haproxy', '--registry', url, '--bind', '127.0.0.10', '--source', '127.0.0.10']);
  t.match(joined.stdout, /^ {4}server d 10\.0\.0\.5:8080 check$/m, 'the new node in each backend');
  t.match(joined.stdout, /^ {4}retries 2$/m, 'three nodes: two retries');

  t.test('haproxy -c accepts it', { skip: haproxyBinary() === null ? 'haproxy is not installed' : false }, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbreg-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'haproxy.cfg');
    writeFileSync(file, joined.stdout);
    const c = spawnSync(haproxyBinary() ?? 'haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    t.equal(c.status, 0, `${c.stdout}${c.stderr}`);
  });
});

t.test('--out, the URL from ISOHTTPD_REGISTRY_URL, IPv6 nodes, no password in the text', async (t) => {
  const { url, reg, db } = await registry(t);
  await addServer(reg, 1, '::1', 8080);
  await addNode(db, 'n-1.x', '::1', 'live');
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbreg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'haproxy.cfg');
  const withPassword = url.replace('postgres@', 'postgres:s3cret@');
  const r = await runCli(['lb', 'haproxy', '--out', out], { ISOHTTPD_REGISTRY_URL: `${withPassword}?application_name=x&password=s3cret` });
  t.equal(r.code, EXIT.ok, r.stderr);
  t.equal(r.stderr, `wrote ${out}: 1 addresses, 1 nodes\n`);
  const cfg = readFileSync(out, 'utf8');
  t.match(cfg, /^ {4}bind ipv6@::1:8080$/m, 'bound on the server host without --bind');
  t.match(cfg, /^ {4}server n-1\.x ipv6@::1:8080 check$/m);
  t.notMatch(cfg, /s3cret/, 'the password is not written');
});

t.test('a registry without nodes: every backend empty, said on stderr', async (t) => {
  const { url, reg } = await registry(t);
  await addServer(reg, 1, '127.0.0.1', 8080);
  const r = await runCli(['lb', 'haproxy', '--registry', url]);
  t.equal(r.code, EXIT.ok, r.stderr);
  t.match(r.stderr, /^isohttpd: warning: the registry postgres:\/\/\S+ lists no node in cluster_nodes \(none joined, or all left\): every backend is empty\n$/);
  t.match(r.stdout, /^backend be_127_0_0_1_8080\n {4}balance leastconn\n(?: {4}[^\n]+\n)+$/m);
  t.notMatch(r.stdout, /^ {4}server /m);
});
