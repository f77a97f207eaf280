// Hostile: a call V8 cannot interrupt (an Intl.Segmenter spread over 8M characters) outlives its request's deadline; the request is answered 504 then and its isolate disposed, and isolated-vm reports losing control of that isolate only later (its out-of-memory inside the call, or "Script failed to terminate" 5 s after the deadline). That late report retires the worker; the call running on the server's fresh isolate finishes (200), a request the retired worker accepted but had not started is answered 502 "moving … retry" (no isolate of the server enters that worker again: it still holds the lost one's memory), then the fresh worker answers 200; nothing is lost or counted as memory; a neighbour on the same worker loses no request.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen, until } from './helpers.js';

const HANDLER = `(r) => {
  if (r.path === '/spread') return { version: '1.1', statuscode: 200, headers: {}, message: String([...new Intl.Segmenter('en').segment('a'.repeat(8e6))].length) };
  const end = Date.now() + 150;
  while (Date.now() < end);
  return { version: '1.1', statuscode: 200, headers: {}, message: 'worked' };
}`;

// memoryMb 64: the segments outgrow the heap guard's ceiling inside the call; V8's out-of-memory error comes ~1 s after
// the deadline (measured; under memoryMb 512 the call ends within isolated-vm's termination wait instead).
const memoryMb = 64;
t.test("a late report of a disposed isolate's loss: the server's fresh isolate finishes, nothing is lost or blamed on memory", async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc, 50);
  const { httpdid, port } = await svc.deploy(hostile(HANDLER), { timeoutMs: 1000, memoryMb, cpuShareWindowMs: 60000 });
  const first = await get(port, '/spread');
  t.equal(first.status, 504, 'the uninterruptible call: 504 at its deadline');
  const retired = (): boolean => /sandbox worker retired \(isolated-vm lost control of an isolate/.test(svc.output());
  // Requests back to back (each busy 150 ms) from the 504 until well after the report.
  const statuses = new Map<number, number>();
  let moving = 0;
  let sent = 0;
  let retiredAt = Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  while (performance.now() - t0 < 20_000 && performance.now() - retiredAt < 1500) {
    const r = await get(port, '/work');
    sent++;
    if (r.status === 502 && /moving to a fresh sandbox worker/.test(r.text)) moving++;
    else statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status !== 200) t.comment(`/work ${r.status} ${r.text.trim().slice(0, 120)}`);
    if (retiredAt === Number.POSITIVE_INFINITY && retired()) retiredAt = performance.now();
  }
  t.ok(retiredAt < Number.POSITIVE_INFINITY, 'the worker was retired (isolated-vm reported the lost isolate)');
  // Once the loss is reported, no isolate of the server enters the retired worker again (it still holds the lost
  // one's memory): a request it had accepted but not started is answered 502 "moving … retry", never lost or blamed.
  t.same(Object.fromEntries(statuses), { 200: sent - moving }, `every one of the ${sent} requests around the report answered 200, or ${moving} 502 "moving" by the retired worker`);
  t.ok(moving <= 2, `at most the requests it had accepted: ${moving}`);
  t.ok(await until(async () => (await get(port, '/ok')).status === 200, 10_000), 'served on, on the fresh worker');
  const s = await statsWhen(svc.api, httpdid, (st) => st.workerRestarts === 1);
  t.equal(s.outcomes.timeout, 1, 'the one timeout counted');
  t.equal(s.outcomes.crashed, moving, 'only the "moving" answers counted crashed');
  t.equal(s.outcomes.memory, 0, 'none counted memory');
  t.equal(s.workerRestarts, 1, 'the retirement charged to the server');
  t.comment(svc.output().match(/lost control of an isolate: [^)]*\)/)?.[0] ?? '');
  await c.check(t, { memoryMb });
});
