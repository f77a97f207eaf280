// Hostile (supervision): a worker whose event loop is stopped for a while (SIGSTOP, as a loaded machine can starve it) is not killed if it comes back within the heartbeat window; one stopped longer is killed, replaced, and (idle) charged to nobody (contain(): a neighbour on the same worker is never without a 200 for longer than the bound its test sets, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { HEARTBEAT_DEAD_MS } from '../../src/core/supervision.js';
import { startService } from '../helpers/service.js';
import { workersUp } from '../helpers/workers.js';
import { contain, get, hostile, until } from './helpers.js';

const serves = (port: number, ms: number): Promise<boolean> => until(async () => (await get(port, '/ok')).status === 200, ms);

t.test('a worker stopped for 1.5 s is slow, not dead: kept with its servers', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const a = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "a" })'));
  t.equal((await get(a.port, '/ok')).status, 200, 'served');
  const worker = c.worker;
  process.kill(worker, 'SIGSTOP');
  await new Promise((res) => setTimeout(res, 1500));
  process.kill(worker, 'SIGCONT');
  t.ok(await serves(a.port, 2000), 'serves again');
  // Well past the window: a kill, had there been one, would have been logged by now.
  await new Promise((res) => setTimeout(res, HEARTBEAT_DEAD_MS));
  t.equal((await workersUp(svc.proc.pid ?? 0, 1)).serving[0], worker, 'the same worker');
  t.notMatch(svc.output(), /sandbox worker exited|answered no heartbeat/, 'no kill, no exit');
  t.equal((await svc.api('GET', `/servers/${a.httpdid}`)).body.stats.workerRestarts, 0, 'no restart');
  // The neighbour waits out the stop (1.5 s, imposed by the test), loses nothing.
  await c.check(t, { gapMs: 1500 + 2000 });
});

t.test('a worker stopped past the window is killed, replaced, charged to nobody', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const a = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "a" })'));
  t.equal((await get(a.port, '/ok')).status, 200, 'served');
  // The worker tells the control process a request ended in the event-loop turn after it wrote the
  // answer; a fresh stats read is a round trip behind that message, so the stop below finds `a` idle.
  t.equal((await svc.api('GET', `/servers/${a.httpdid}`)).body.stats.requests, 1, 'counted, and known idle');
  process.kill(c.worker, 'SIGSTOP');
  await until(() => /answered no heartbeat/.test(svc.output()), HEARTBEAT_DEAD_MS + 5000);
  t.match(svc.output(), /answered no heartbeat/, 'killed for its silence');
  t.ok(await serves(a.port, 10_000), 'the slot was replaced and serves');
  const exits = svc
    .output()
    .split('\n')
    .filter((l) => l.includes('sandbox worker exited'));
  t.equal(exits.length, 1, 'the exit is logged once');
  t.match(exits[0] ?? '', /missed heartbeat/, 'with its cause');
  const s = (await svc.api('GET', `/servers/${a.httpdid}`)).body.stats;
  t.equal(s.workerRestarts, 0, 'idle: not charged');
  t.equal(s.outcomes.crashed, 0, 'nothing crashed');
  // Out from the stop until the heartbeat kill and the replacement (the stop is the test's): back within 2 s of the window.
  await c.check(t, { workerKilled: true, gapMs: HEARTBEAT_DEAD_MS + 2000 });
});
