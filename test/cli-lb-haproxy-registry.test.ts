// `isohttpd lb haproxy --registry/--watch/--reload-pid` as a command: usage errors (exit 2), a registry that cannot be reached (exit 6) or is not a cluster's (exit 1), a one-shot install with --reload-pid (haproxy -c first: a refused configuration leaves the file as it was), a watch on an unreachable registry ended by SIGINT (exit 0).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { PostgresRegistry } from '../src/api/registry/postgres.js';
import { resolveLimits } from '../src/core/limits.js';
import { assertFailure, EXIT, runCli, spawnCli } from './helpers/cli.js';
import { haproxyBinary } from './helpers/haproxy.js';
import { startPostgres } from './helpers/postgres.js';
import { freePort } from './helpers/service.js';
import { until } from './helpers/until.js';

const cluster = await startPostgres(t);

t.test('usage errors', async (t) => {
  const reg = cluster.url('postgres');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--node', 'a=10.0.0.1']), EXIT.usage, /no --node, --url or --token with it/, '--registry with --node');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--url', 'http://127.0.0.1:7070']), EXIT.usage, /no --node, --url or --token with it/, '--registry with --url');
  assertFailure(
    t,
    await runCli(['lb', 'haproxy', '--registry', 'mysql://u:pw@db/x']),
    EXIT.usage,
    /--registry "mysql:\/\/u:\*\*\*@db\/x" is not a postgres:\/\/ URL/,
    'another database, its password hidden',
  );
  assertFailure(t, await runCli(['lb', 'haproxy'], { ISOHTTPD_REGISTRY_URL: 'sqlite:x' }), EXIT.usage, /ISOHTTPD_REGISTRY_URL "sqlite:x" is not a postgres:\/\/ URL/, 'the environment variable');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--watch', '200']), EXIT.usage, /--watch needs --out FILE/, '--watch without --out');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--reload-pid', '/run/haproxy.pid']), EXIT.usage, /--reload-pid needs --out FILE/, '--reload-pid without --out');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--watch', '10', '--out', 'x.cfg']), EXIT.usage, /--watch must be at least 100 ms, not 10/, 'too short a period');
  assertFailure(t, await runCli(['lb', 'haproxy', '--registry', reg, '--watch', 'soon', '--out', 'x.cfg']), EXIT.usage, /--watch must be a whole number/, 'not a number');
});

t.test('a registry that cannot be reached: exit 6; a database without the cluster tables: exit 1', async (t) => {
  const port = await freePort();
  assertFailure(
    t,
    await runCli(['lb', 'haproxy', '--registry', `postgres://postgres:pw@127.0.0.1:${port}/x`]),
    EXIT.unreachable,
    new RegExp(`the registry postgres://postgres@127\\.0\\.0\\.1:${port}/x cannot be reached: .*ECONNREFUSED`),
    'nothing listening',
  );
  assertFailure(t, await runCli(['lb', 'haproxy'], { ISOHTTPD_REGISTRY_URL: `postgres://127.0.0.1:${port}/x` }), EXIT.unreachable, /cannot be reached/, 'from the environment');
  assertFailure(
    t,
    await runCli(['lb', 'haproxy', '--registry', cluster.url('no_such_database')]),
    EXIT.unreachable,
    /cannot be reached: database "no_such_database" does not exist/,
    'no such database',
  );
  assertFailure(
    t,
    await runCli(['lb', 'haproxy', '--registry', await cluster.createDatabase()]),
    EXIT.apiError,
    /could not be read: relation "\w+" does not exist \(no cluster tables/,
    'an empty database',
  );
});

t.test(
  '--reload-pid once: checked and installed, HAProxy not running said; a configuration haproxy -c refuses is not installed',
  { skip: haproxyBinary() === null ? 'haproxy is not installed' : false },
  async (t) => {
    const url = await cluster.createDatabase();
    const reg = await PostgresRegistry.open(url, { poolSize: 1 });
    t.teardown(() => reg.close());
    const row = (httpdid: number, port: number) => ({
      httpdid,
      tenant: 'acme',
      host: '127.0.0.1',
      port,
      source: 'export default () => ({ statuscode: 200 });',
      limits: resolveLimits({}),
      exposeErrors: false,
      replicas: 1,
      state: 'running' as const,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    await reg.insertServer(row(1, 8080));
    await reg.pool.query("INSERT INTO cluster_nodes (name, address, api_url) VALUES ('a', '127.0.0.2', 'http://127.0.0.2:7070')");
    const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbonce-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'haproxy.cfg');
    const pid = path.join(dir, 'haproxy.pid');
    const args = ['lb', 'haproxy', '--registry', url, '--bind', '127.0.0.10', '--out', out, '--reload-pid', pid];

    const first = await runCli(args);
    t.equal(first.code, EXIT.ok, first.stderr);
    t.equal(first.stdout, `haproxy: 1 addresses, 1 nodes; wrote ${out}, not reloaded: no ${pid} (HAProxy not started: it reads the file when it starts)\n`);
    const installed = readFileSync(out, 'utf8');
    t.match(installed, /bind 127\.0\.0\.10:8080/);

    writeFileSync(pid, `${process.pid}\n`);
    const notHaproxy = await runCli(args);
    t.equal(notHaproxy.code, EXIT.ok, notHaproxy.stderr);
    t.match(notHaproxy.stdout, new RegExp(`not reloaded: pid ${process.pid} of \\S+ is not HAProxy \\(\\w+\\)\\n$`), 'a pid that is not HAProxy is not signalled');

    // A row no API writes: HAProxy refuses the port, the file stays as it was.
    await reg.insertServer(row(2, 70000));
    const refused = await runCli(args);
    assertFailure(
      t,
      refused,
      EXIT.apiError,
      /haproxy -c refused the configuration \(left in \S+haproxy\.cfg\.new; \S+haproxy\.cfg unchanged\): parsing \[\S+haproxy\.cfg\.new:\d+\] : 'bind' : invalid port '70000'/,
      'refused',
    );
    t.equal(readFileSync(out, 'utf8'), installed, 'the installed configuration unchanged');
    t.match(readFileSync(`${out}.new`, 'utf8'), /:70000/, 'the refused one left beside it');
  },
);

t.test('--watch while the registry cannot be reached: one line, no file written; SIGINT ends it with exit 0', { skip: haproxyBinary() === null ? 'haproxy is not installed' : false }, async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-lbwatch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'haproxy.cfg');
  const proc = spawnCli(['lb', 'haproxy', '--registry', `postgres://127.0.0.1:${port}/x`, '--watch', '100', '--out', out]);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.ok(await until(() => /cannot be reached/.test(stderr), 10_000), 'said');
  // Some more rounds, each failing the same way.
  await new Promise((r) => setTimeout(r, 500));
  proc.kill('SIGINT');
  t.equal(await exited, EXIT.ok, 'exit 0');
  t.equal(stderr.split('\n').filter((l) => /cannot be reached/.test(l)).length, 1, `one line for the outage: ${stderr}`);
  t.throws(() => readFileSync(out), { code: 'ENOENT' }, 'nothing written');
});
