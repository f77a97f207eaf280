// A restart restores every stored server (same httpdid, port, answers) before the API listens; one that cannot be bound again is failed with the reason (persisted); httpdids are never reused.

import { rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { example, startService, tempDataDir, type Service } from './helpers/service.js';

/** Stops the service with SIGTERM; resolves to its exit code. */
async function stopCleanly(svc: Service): Promise<number | null> {
  const exited = new Promise<number | null>((r) => svc.proc.once('exit', (code) => r(code)));
  svc.proc.kill('SIGTERM');
  return exited;
}

async function get(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  await res.text();
  return res.status;
}

t.test('restart restores servers', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // A data dir of an earlier version: its httpdid sequence file is taken over.
  writeFileSync(path.join(dataDir, 'httpdid-sequence.json'), '{"last":41}\n');
  const svc1 = await startService(t, ['--workers', '2'], {}, { dataDir });
  const a = await svc1.deploy(example('hello.js'));
  const b = await svc1.deploy(example('echo.js'), { timeoutMs: 2000 });
  const c = await svc1.deploy(example('hello.js'));
  t.equal(a.httpdid, 42, 'the legacy sequence file was migrated');
  t.notOk(existsSync(path.join(dataDir, 'httpdid-sequence.json')), 'and renamed');
  t.equal((await svc1.api('DELETE', `/servers/${c.httpdid}`)).status, 204);
  const before = (await svc1.api('GET', '/servers')).body.servers as Array<Record<string, unknown>>;
  t.equal(await stopCleanly(svc1), 0, 'SIGTERM: exit 0');
  t.not(await get(a.port).catch(() => 0), 200, 'stopped: not serving');

  const svc2 = await startService(t, ['--workers', '2'], {}, { dataDir });
  t.match(svc2.output(), /2 servers restored/);
  const after = (await svc2.api('GET', '/servers')).body.servers as Array<Record<string, unknown>>;
  const strip = (s: Record<string, unknown>): Record<string, unknown> => ({ ...s, stats: undefined, statsAgeMs: undefined });
  t.same(after.map(strip), before.map(strip), 'same servers: httpdid, port, limits, version, times');
  t.equal(await get(a.port), 200, 'a answers');
  t.equal(await get(b.port), 200, 'b answers');
  t.equal((await svc2.api('GET', `/servers/${c.httpdid}`)).status, 404, 'the deleted one stays deleted');
  const d = await svc2.deploy(example('hello.js'));
  t.equal(d.httpdid, c.httpdid + 1, 'httpdids are never reused, across restarts too');
  t.equal(await stopCleanly(svc2), 0);

  // Something else takes b's port while the service is down: b shows failed with the reason, retried (see restore-address-busy.test.ts).
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(b.port, '127.0.0.1', r));
  const svc3 = await startService(t, [], {}, { dataDir });
  const failed = await svc3.api('GET', `/servers/${b.httpdid}`);
  t.equal(failed.body.state, 'failed');
  t.match(failed.body.reason, /^not restored yet: .*in use/);
  t.equal((await svc3.api('GET', `/servers/${a.httpdid}`)).body.state, 'running', 'the others run');
  t.equal(await get(a.port), 200);
  t.equal(await stopCleanly(svc3), 0);
  await new Promise((r) => squatter.close(r));

  const svc4 = await startService(t, [], {}, { dataDir });
  const still = await svc4.api('GET', `/servers/${b.httpdid}`);
  t.equal(still.body.state, 'running', 'an address in use is not a failure for good: restored at the next start');
  t.equal(await get(b.port), 200, 'b answers again');
  t.equal((await svc4.api('DELETE', `/servers/${b.httpdid}`)).status, 204, 'and can be deleted');
});
