// Hostile: a worker that dies between heartbeats (SIGKILL while one server's request runs) is charged to that server alone: its request counts as crashed, only its workerRestarts grows, the exit is logged with its cause, and the slot is replaced (contain(): a neighbour on the same worker is never without a 200 for longer than the bound its test sets, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { HEARTBEAT_DEAD_MS } from '../../src/core/supervision.js';
import { startService } from '../helpers/service.js';
import { workersUp } from '../helpers/workers.js';
import { contain, get, hostile, statsWhen, until } from './helpers.js';

t.test('a crash is charged to the server whose request was running', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const neighbour = c.neighbour;
  const culprit = await svc.deploy(hostile(`() => { const end = Date.now() + 3000; while (Date.now() < end); return { version: '1.1', statuscode: 200, headers: {}, message: 'slow' }; }`), {
    timeoutMs: 10000,
  });
  const worker = c.worker;
  t.ok(worker > 0, 'found the worker');
  // Lost either way: closed without an answer, or reset.
  const pending = get(culprit.port, '/spin').catch(() => ({ status: 0, text: '' }));
  // Well inside the spin, and between two heartbeats' worth of nothing else happening.
  await new Promise((res) => setTimeout(res, 400));
  // Between two of the neighbour watcher's requests: only the culprit runs a request when it dies.
  await c.quiet(() => process.kill(worker, 'SIGKILL'));
  const r = await pending;
  t.equal(r.status, 0, 'the running request lost its connection');
  t.ok(await until(async () => (await get(neighbour.port, '/ok')).status === 200, 10_000), 'the slot was replaced and the neighbour serves again');
  // Its worker killed under it: back within the heartbeat window plus 2 s (the kill is the test's, not the tenant's).
  await c.check(t, { workerKilled: true, gapMs: HEARTBEAT_DEAD_MS + 2000 });
  const s = await statsWhen(svc.api, culprit.httpdid, (st) => st.outcomes.crashed === 1 && st.workerRestarts === 1);
  const n = (await svc.api('GET', `/servers/${neighbour.httpdid}`)).body.stats;
  t.equal(s.outcomes.crashed, 1, 'the culprit: its request counted as crashed');
  t.equal(s.workerRestarts, 1, 'the culprit: charged with the restart');
  t.equal(n.outcomes.crashed, 0, 'the neighbour: nothing crashed');
  t.equal(n.workerRestarts, 0, 'the neighbour: not charged');
  const exits = svc
    .output()
    .split('\n')
    .filter((l) => l.includes('sandbox worker exited'));
  t.equal(exits.length, 1, 'the exit is logged once');
  t.match(exits[0] ?? '', /SIGKILL/, 'with its signal');
  t.match(exits[0] ?? '', new RegExp(`"httpdid":${culprit.httpdid}[,}]`), 'and with the server it was running');
});

t.test('a crash with nothing running is charged to no server', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const a = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "a" })'));
  t.equal((await get(a.port, '/ok')).status, 200, 'served');
  const worker = (await workersUp(svc.proc.pid ?? 0, 1)).serving[0] ?? 0;
  process.kill(worker, 'SIGKILL');
  t.ok(await until(async () => (await get(a.port, '/ok')).status === 200, 10_000), 'replaced');
  const s = (await svc.api('GET', `/servers/${a.httpdid}`)).body.stats;
  t.equal(s.outcomes.crashed, 0, 'nothing crashed');
  t.equal(s.workerRestarts, 0, 'an idle server is not charged');
});
