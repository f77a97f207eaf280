// Hostile: spreading an Intl.Segmenter's segments of 8M characters into an array (`[...segmenter.segment(s)]`, `Array.from`) is one ICU-backed built-in call V8 does not interrupt: isolated-vm's termination wait (5 s) runs out ("Script failed to terminate"), or, under memoryMb 64, the segments outgrow the heap guard's ceiling inside it (V8's out-of-memory error). Before containment it was never answered and the worker hung in process.exit; now it is a 504 at its deadline, the worker is retired, the server served again on a fresh worker and charged; a neighbour on the same worker loses no request and answers within 2 s; the workers' RSS stays within idle + 4 × memoryMb + 64 MiB (contain()).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { childPids } from '../helpers/workers.js';
import { contain, get, hostile, statsWhen, until } from './helpers.js';

const CASES: Record<string, string> = {
  '/spread': `() => ({ version: '1.1', statuscode: 200, headers: {}, message: String([...new Intl.Segmenter('en').segment('a'.repeat(8e6))].length) })`,
  '/from-words': `() => ({ version: '1.1', statuscode: 200, headers: {}, message: String(Array.from(new Intl.Segmenter('en', { granularity: 'word' }).segment('ab '.repeat(27e5))).length) })`,
};

for (const [path, handler] of Object.entries(CASES)) {
  t.test(`Intl.Segmenter ${path}: 504 at the deadline, the worker retired`, async (t) => {
    const svc = await startService(t, ['--workers', '1']);
    const c = await contain(svc, 50);
    const { httpdid, port } = await svc.deploy(hostile(handler), { timeoutMs: 200 });
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    t.equal(r.status, 504, '504');
    t.ok(ms < 1000, `at its deadline (${ms.toFixed(0)} ms, timeoutMs 200)`);
    t.ok(
      await until(() => /sandbox worker retired \(isolated-vm lost control of an isolate: (Script failed to terminate|Catastrophic out-of-memory error)\)/.test(svc.output()), 20_000),
      'the worker is retired (the call outlasts the termination wait, or its 8M segments outgrow twice memoryMb inside it)',
    );
    t.ok(await until(() => !childPids(svc.proc.pid ?? 0).includes(c.worker), 20_000), 'the old worker process is gone');
    t.ok(await until(async () => (await get(port, '/ok')).status === 200, 10_000), 'served again, on a fresh worker');
    await c.check(t, { memoryMb: 64 });
    const s = await statsWhen(svc.api, httpdid, (st) => st.workerRestarts === 1 && st.outcomes.timeout === 1);
    t.equal(s.outcomes.timeout, 1, 'counted as a timeout');
    t.equal(s.workerRestarts, 1, 'charged with the worker');
    const n = await statsWhen(svc.api, c.neighbour.httpdid, () => true);
    t.equal(n.workerRestarts, 0, 'the neighbour is not charged');
  });
}
