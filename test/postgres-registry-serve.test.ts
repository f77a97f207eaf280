// `isohttpd serve --registry postgres://…` on a real throwaway PostgreSQL: servers are stored there and restored from it after a restart; `isohttpd tenant` works on it; with the database stopped the API answers 503 ISO_ERR_API_REGISTRY_UNAVAILABLE while deployed servers keep serving, and it recovers once the database is back.

import { rmSync } from 'node:fs';
import t from 'tap';
import { startPostgres } from './helpers/postgres.js';
import { addTenant, example, freePort, startService, type Service, tempDataDir, tenantCli } from './helpers/service.js';

const cluster = await startPostgres(t);

/** Stops the service with SIGTERM; resolves to its exit code. */
async function stopCleanly(svc: Service): Promise<number | null> {
  const exited = new Promise<number | null>((r) => svc.proc.once('exit', (code) => r(code)));
  svc.proc.kill('SIGTERM');
  return exited;
}

async function get(port: number): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return { status: res.status, text: await res.text() };
}

t.test('a server deployed through a PostgreSQL registry is restored from it after a restart (another data dir) and serves', async (t) => {
  const registry = await cluster.createDatabase();
  const token = addTenant(`registry:${registry}`, 'acme');
  t.match(token, /^iso_/, '`isohttpd tenant add --registry` on PostgreSQL');
  const dir1 = tempDataDir();
  t.teardown(() => rmSync(dir1, { recursive: true, force: true }));
  const svc1 = await startService(t, ['--workers', '1'], {}, { registry, dataDir: dir1 });
  t.match(svc1.output(), /registry: PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:\d+\/t\d+/, 'the start line names the registry');
  const a = await svc1.deploy(example('hello.js'), undefined, token, { name: 'hello' });
  t.equal((await get(a.port)).status, 200, 'serves');
  const taken = await svc1.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: example('hello.js'), name: 'hello' }, token);
  t.match(taken, { status: 409, body: { error: { code: 'ISO_ERR_API_NAME_TAKEN' } } }, 'the name is unique in the database');
  const before = (await svc1.api('GET', '/servers', undefined, token)).body.servers as Array<Record<string, unknown>>;
  t.equal(await stopCleanly(svc1), 0, 'SIGTERM: exit 0');

  const ls = tenantCli(`registry:${registry}`, 'ls', '--json');
  t.equal(ls.status, 0);
  t.match(JSON.parse(ls.stdout), { tenants: [{ name: 'acme', servers: 1 }] }, '`isohttpd tenant ls --registry` sees the server');

  // Another data dir: everything comes from PostgreSQL.
  const dir2 = tempDataDir();
  t.teardown(() => rmSync(dir2, { recursive: true, force: true }));
  const svc2 = await startService(t, ['--workers', '1'], { ISOHTTPD_REGISTRY_URL: registry }, { dataDir: dir2 });
  t.match(svc2.output(), /1 servers restored/, 'restored (the registry from ISOHTTPD_REGISTRY_URL)');
  const after = (await svc2.api('GET', '/servers', undefined, token)).body.servers as Array<Record<string, unknown>>;
  const strip = (s: Record<string, unknown>): Record<string, unknown> => ({ ...s, stats: undefined, statsAgeMs: undefined });
  t.same(after.map(strip), before.map(strip), 'the same server: httpdid, name, port, version, times');
  t.match(await get(a.port), { status: 200, text: /hello/i }, 'and it serves');
  const b = await svc2.deploy(example('hello.js'), undefined, token);
  t.equal(b.httpdid, a.httpdid + 1, 'the httpdid sequence goes on in the database');
  t.equal(await stopCleanly(svc2), 0);
});

t.test('a registry URL of another scheme stops the service at start-up with a clear message', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  await t.rejects(startService(t, ['--registry', 'mysql://u:secret@127.0.0.1/x'], {}, { dataDir }), /exited with 2[\s\S]*config\.registry "mysql:\/\/u:\*\*\*@127\.0\.0\.1\/x" is not a registry/);
});

// Last: it stops the cluster.
t.test('PostgreSQL down: the API answers 503 ISO_ERR_API_REGISTRY_UNAVAILABLE, deployed servers keep serving; back up: the API works again', async (t) => {
  const registry = await cluster.createDatabase();
  const svc = await startService(t, ['--workers', '1'], {}, { registry });
  const a = await svc.deploy(example('hello.js'));
  t.equal((await get(a.port)).status, 200);
  await cluster.stop();
  const down = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: example('hello.js') });
  t.equal(down.status, 503, 'POST /servers: 503');
  t.equal(down.body?.error?.code, 'ISO_ERR_API_REGISTRY_UNAVAILABLE');
  t.match(down.body?.error?.message, /registry database cannot be reached/);
  t.equal((await svc.api('GET', '/servers')).status, 503, 'GET /servers: 503 too');
  for (let i = 0; i < 5; i++) t.match(await get(a.port), { status: 200, text: /hello/i }, `the deployed server keeps serving (${i + 1})`);
  await cluster.start();
  const up = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: example('hello.js') });
  t.equal(up.status, 201, 'POST /servers works again: the pool connected again');
  t.equal((await get(up.body.port as number)).status, 200, 'the new server serves');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 2, 'both stored');
  t.equal(await stopCleanly(svc), 0);
});
