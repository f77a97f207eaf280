// Hostile: one built-in call V8 cannot interrupt (a huge BigInt parse or power) still gets its 504 at the deadline plus a bounded grace; one that outlasts isolated-vm's 5 s termination wait retires its worker without failing a single neighbour request (the neighbours move to a fresh worker first).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile, watchNeighbour } from './helpers.js';

t.test('a slow built-in answers at the deadline', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })'));
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => ({ version: '1.1', statuscode: 200, headers: {}, message: String(r.path === '/parse' ? BigInt('1'.repeat(6e6)) > 0n : 7n ** 30000000n > 0n) })`),
    { timeoutMs: 200 },
  );
  const watch = watchNeighbour(neighbour.port, 50);
  for (const path of ['/parse', '/power']) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    t.equal(r.status, 504, `${path}: 504`);
    // The built-in alone runs 1–3 s; the answer must not wait for it.
    t.ok(ms < 1000, `${path}: answered in ${ms.toFixed(0)} ms (deadline 200 ms)`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent) ${report.failures.join('; ')}`);
  t.ok(report.slowestMs < 2000, `neighbour: every answer within 2 s (slowest ${report.slowestMs.toFixed(0)} ms)`);
  // Stats reach the control process with the worker's heartbeat: wait for one.
  let timeouts = 0;
  for (const end = Date.now() + 5000; Date.now() < end && timeouts !== 2; await new Promise((res) => setTimeout(res, 100))) {
    timeouts = ((await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes.timeout as number) ?? 0;
  }
  t.equal(timeouts, 2, 'counted as timeouts');
});
