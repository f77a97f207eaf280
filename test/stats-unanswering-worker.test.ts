// Stats when a worker does not answer in time (stopped with SIGSTOP): `GET /servers/:id` still answers within its bounded wait (FRESH_STATS_WAIT_MS, 200 ms), with the last heartbeat's counts and their age in `statsAgeMs`.

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { workersUp } from './helpers/workers.js';

t.test("a worker that does not answer: the last heartbeat's figures, with their age", async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(example('hello.js'));
  await (await fetch(`http://127.0.0.1:${port}/`)).text();
  t.equal((await svc.api('GET', `/servers/${httpdid}`)).body.stats.requests, 1, 'counted while the worker answers');
  const [worker = 0] = (await workersUp(svc.proc.pid ?? 0, 1)).serving;
  process.kill(worker, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(worker, 'SIGCONT');
    } catch {
      // killed by the heartbeat meanwhile
    }
  });
  // Stopped well short of the heartbeat's 3 s, after which the worker is replaced.
  await new Promise((r) => setTimeout(r, 600));
  const t0 = performance.now();
  const view = (await svc.api('GET', `/servers/${httpdid}`)).body;
  const ms = performance.now() - t0;
  process.kill(worker, 'SIGCONT');
  t.ok(ms < 1500, `answered without the worker (${ms.toFixed(0)} ms)`);
  t.equal(view.stats.requests, 1, "the last heartbeat's counts");
  t.ok(view.statsAgeMs >= 500, `statsAgeMs ${view.statsAgeMs}: their age, ms`);
});
