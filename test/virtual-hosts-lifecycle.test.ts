// Virtual hosts keep a server's life per server: deleting one leaves its neighbours serving on the shared port, a hot redeploy switches only its own names, a killed worker's replacement serves every server of the address again, and a restart restores them all (hostnames from the registry).

import { rmSync } from 'node:fs';
import t from 'tap';
import { freePort, startService, tempDataDir, type Service } from './helpers/service.js';
import { until } from './helpers/until.js';
import { ask, deployVhost, namedHandler, text } from './helpers/vhosts.js';
import { workersUp } from './helpers/workers.js';

/** The label the server for `host` answers with, or its status when it is not 200. */
async function who(port: number, host: string): Promise<string> {
  const r = await ask(port, host).catch(() => null);
  if (r === null) return 'refused';
  return r.status === 200 ? (text(r).split(' ')[0] ?? '') : String(r.status);
}

t.test('delete, redeploy, worker crash and restart, per server', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const svc1 = await startService(t, ['--workers', '2'], {}, { dataDir });
  const port = await freePort();
  const a = (await deployVhost(svc1, port, ['a.example'], 'A')).body;
  const b = (await deployVhost(svc1, port, ['b.example', '*.b.example'], 'B', undefined, { replicas: 1 })).body;
  const c = (await deployVhost(svc1, port, ['c.example'], 'C')).body;
  t.same([await who(port, 'a.example'), await who(port, 'b.example'), await who(port, 'c.example')], ['A', 'B', 'C']);

  // Deleting one: the others serve on, its name is 421, the port stays bound.
  t.equal((await svc1.api('DELETE', `/servers/${c.httpdid}`)).status, 204);
  t.equal(await who(port, 'c.example'), '421', 'the deleted server is gone from the address');
  t.same([await who(port, 'a.example'), await who(port, 'b.example')], ['A', 'B'], 'its neighbours serve on');
  // Its name is free again, for anyone.
  const c2 = (await deployVhost(svc1, port, ['c.example'], 'C2')).body;
  t.equal(await who(port, 'c.example'), 'C2');

  // Hot redeploy of one: only its names switch.
  const put = await svc1.api('PUT', `/servers/${b.httpdid}`, { source: namedHandler('B2') });
  t.equal(put.status, 200);
  t.equal(put.body.version, 2);
  t.same([await who(port, 'a.example'), await who(port, 'x.b.example')], ['A', 'B2']);
  const logs = await svc1.api('GET', `/servers/${a.httpdid}`);
  t.equal(logs.body.version, 1, "the neighbour's version is untouched");

  // A killed worker: its replacement hosts every server of the address again (same socket, same names).
  const before = await workersUp(svc1.proc.pid ?? 0, 2);
  for (const pid of before.serving) process.kill(pid, 'SIGKILL');
  t.ok(
    await until(async () => (await who(port, 'a.example')) === 'A' && (await who(port, 'x.b.example')) === 'B2' && (await who(port, 'c.example')) === 'C2', 20_000, 200),
    'all served again after the workers were replaced',
  );
  t.equal(await who(port, 'nobody.example'), '421');

  // A restart restores them all from the registry, hostnames included.
  const listed = (await svc1.api('GET', '/servers')).body.servers.map((s: { httpdid: number; hostnames?: string[] }) => [s.httpdid, s.hostnames]);
  const exited = new Promise<number | null>((r) => svc1.proc.once('exit', (code) => r(code)));
  svc1.proc.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM drains the shared address and exits 0');
  t.equal(await who(port, 'a.example'), 'refused', 'stopped: the shared port is closed');
  const svc2: Service = await startService(t, ['--workers', '2'], {}, { dataDir });
  t.match(svc2.output(), /3 servers restored/);
  t.same(
    (await svc2.api('GET', '/servers')).body.servers.map((s: { httpdid: number; hostnames?: string[] }) => [s.httpdid, s.hostnames]),
    listed,
    'same servers, same hostnames',
  );
  t.same([await who(port, 'a.example'), await who(port, 'x.b.example'), await who(port, 'c.example'), await who(port, 'nobody.example')], ['A', 'B2', 'C2', '421']);
  // The theft rule holds after the restart too.
  const stolen = await deployVhost(svc2, port, ['a.example'], 'X');
  t.equal(stolen.status, 409);
  t.equal(stolen.body.error.code, 'ISO_ERR_API_HOSTNAME_TAKEN');
  t.ok(c2.httpdid > c.httpdid);

  // The last server leaving closes the port.
  for (const s of [a, b, c2]) t.equal((await svc2.api('DELETE', `/servers/${s.httpdid}`)).status, 204);
  t.equal(await who(port, 'a.example'), 'refused', 'no server left: the address is released');
});
