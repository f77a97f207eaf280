// Hostile timers: a handler waiting on a timer past its deadline gets 504 at the deadline (the timer is cancelled with it); a timer storm stops at 1000 pending (RangeError); chained zero-delay timers run only within the request's time limit; the neighbour on the same worker keeps answering, and nothing runs after the requests end.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile, watchNeighbour } from './helpers.js';

const TENANT = hostile(`async (request) => {
  if (request.path === '/past-deadline') {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return { version: '1.1', statuscode: 200, headers: {}, message: 'never' };
  }
  if (request.path === '/storm') {
    let set = 0, error = '';
    try { for (let i = 0; i < 100000; i++) { setTimeout(() => {}, 60000); set++; } } catch (e) { error = e.constructor.name + ': ' + e.message; }
    return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify({ set, error }) };
  }
  if (request.path === '/chain') {
    let n = 0;
    const tick = () => { n++; globalThis.ticks = n; setTimeout(tick, 0); };
    setTimeout(tick, 0);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return { version: '1.1', statuscode: 200, headers: {}, message: 'never' };
  }
  return { version: '1.1', statuscode: 200, headers: {}, message: String(globalThis.ticks ?? 0) };
}`);
const NEIGHBOUR = hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })');

t.test('timers cannot outlive their request or flood the host', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(NEIGHBOUR);
  const { port } = await svc.deploy(TENANT, { timeoutMs: 300 });
  await get(neighbour.port, '/ok');
  const watch = watchNeighbour(neighbour.port);

  const t0 = performance.now();
  const late = await get(port, '/past-deadline');
  const ms = performance.now() - t0;
  t.equal(late.status, 504, 'a handler waiting on a timer past its deadline: 504');
  t.ok(ms < 2000, `at the deadline (${ms.toFixed(0)} ms), not after the 5 s timer`);

  const storm = await get(port, '/storm');
  t.equal(storm.status, 200);
  t.same(JSON.parse(storm.text), { set: 1000, error: 'RangeError: setTimeout: more than 1000 timers pending' }, 'at most 1000 pending');
  // The storm's 1000 timers were cancelled with its request: the next request may set them again.
  const again = await get(port, '/storm');
  t.equal(JSON.parse(again.text).set, 1000, 'cancelled with their request: the next one may set 1000 again');

  const chained = await get(port, '/chain');
  t.equal(chained.status, 504, 'zero-delay chains end with the request');
  const ticks = Number((await get(port, '/ok-ticks')).text);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(Number((await get(port, '/ok-ticks')).text), ticks, `no tick after the request ended (${ticks} before)`);

  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent)`);
  t.ok(report.slowestMs < 2000, `neighbour: slowest ${report.slowestMs.toFixed(0)} ms`);
});
