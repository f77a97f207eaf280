// Hostile: a catastrophic OOM retires its worker, which then drains (up to RETIRE_DRAIN_MS) while a neighbour's slow request finishes on it; the server's stats, read during that drain, already count the 503 `memory` answered just before the retirement (before, the control process showed a draining worker's counts as of its last heartbeat until the drain ended, so a read within the next seconds missed it).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { until } from '../helpers/until.js';
import { get, hostile } from './helpers.js';

t.test("a retired worker's counts are read while it drains", async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const bomb = await svc.deploy(hostile('() => new Array(1e9).fill(0)'), { memoryMb: 64, timeoutMs: 10000 });
  const slow = await svc.deploy("export default () => { const end = Date.now() + 6000; while (Date.now() < end); return { version: '1.1', statuscode: 200, headers: {}, message: 'slow' }; }", {
    timeoutMs: 8000,
    cpuShareWindowMs: 60000,
  });
  // In flight on the worker about to be retired: its drain waits for this answer (~6 s).
  const slowAnswer = get(slow.port, '/');
  let slowDone = false;
  void slowAnswer.then(() => {
    slowDone = true;
  });
  await new Promise((r) => setTimeout(r, 300));
  const boom = await get(bomb.port, '/boom');
  t.equal(boom.status, 503, 'the catastrophic OOM: 503');
  t.ok(await until(async () => (await get(bomb.port, '/ok')).status === 200, 10_000), 'the servers moved to a fresh worker');
  // The slot switches to the fresh worker once every server is hosted on it: give that a moment.
  await new Promise((r) => setTimeout(r, 500));
  const stats = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body.stats;
  t.notOk(slowDone || /retired sandbox worker stopped/.test(svc.output()), 'read while the retired worker still drains');
  t.equal(stats.outcomes.memory, 1, 'the 503 is counted as memory');
  t.equal((await slowAnswer).status, 200, "the neighbour's slow request is answered by the draining worker");
});
