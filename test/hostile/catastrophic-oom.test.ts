// Hostile: a catastrophic OOM (new Array(1e9).fill(0) past isolated-vm's heap limit) is answered 503 memory at once; the worker is retired (its servers move to a fresh worker first): a neighbour on it loses no request, the crashing server is served again, charged with the worker.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { childPids, workersUp } from '../helpers/workers.js';
import { get, hostile, peakRssMb, statsWhen, watchNeighbour } from './helpers.js';

t.test('catastrophic OOM', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const bomb = await svc.deploy(hostile('() => new Array(1e9).fill(0)'), { memoryMb: 64, timeoutMs: 10000 });
  const neighbour = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'neighbour' })");
  t.equal((await get(neighbour.port, '/')).text, 'neighbour');
  const worker = (await workersUp(svc.proc.pid ?? 0, 1)).serving[0] ?? 0;
  t.ok(worker > 0, 'found the worker');
  const watch = watchNeighbour(neighbour.port, 50);

  const t0 = performance.now();
  const boom = await get(bomb.port, '/boom');
  const ms = performance.now() - t0;
  t.equal(boom.status, 503, 'the request that lost its isolate is answered 503');
  t.match(boom.text, /memory limit/, 'as a memory overrun');
  t.ok(ms < 8000, `before its 10 s deadline (${ms.toFixed(0)} ms)`);
  const peak = peakRssMb(worker);

  let gone = false;
  for (const end = Date.now() + 20_000; Date.now() < end && !gone; await new Promise((res) => setTimeout(res, 100))) {
    gone = !childPids(svc.proc.pid ?? 0).includes(worker);
  }
  t.ok(gone, 'the worker was retired and stopped');
  await new Promise((res) => setTimeout(res, 300));
  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent) ${report.failures.join('; ')}`);
  t.ok(report.slowestMs < 2000, `neighbour: every answer within 2 s (slowest ${report.slowestMs.toFixed(0)} ms)`);
  // isolated-vm's limit is a guideline (2–3× memoryMb); the worker never grows by more than that plus its own.
  t.ok(peak < 600, `the worker's peak RSS stayed bounded (${peak.toFixed(0)} MiB, memoryMb 64)`);
  const ok = await get(bomb.port, '/ok');
  t.equal(ok.status, 200, 'the crashing server itself is served again');
  t.match(svc.output(), /sandbox worker retired \(isolated-vm lost control of an isolate: Catastrophic out-of-memory error\)/);
  t.notMatch(svc.output(), /sandbox worker exited \(/, 'the worker did not crash');
  const s = await statsWhen(svc.api, bomb.httpdid, (st) => st.outcomes.memory === 1 && st.workerRestarts === 1);
  t.equal(s.outcomes.memory, 1, 'counted as memory');
  t.equal(s.workerRestarts, 1, 'charged with the worker');
  const n = await statsWhen(svc.api, neighbour.httpdid, (st) => st.outcomes.ok >= report.count);
  t.equal(n.workerRestarts, 0, 'the neighbour is not charged');
  const view = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body;
  t.equal(view.state, 'running');
});
