// setTimeout and clearTimeout within a request: a timer fires after its delay inside the request (under its time limit), with its arguments, in order; clearTimeout stops one; a string of code is a TypeError; a timer a handler does not wait for is cancelled when its request ends, and never runs after it.

import t from 'tap';
import { startService } from './helpers/service.js';

const HANDLER = `let lateRuns = 0;
export default async function handler(request) {
  if (request.path === '/sleep') {
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 80));
    return { version: '1.1', statuscode: 200, headers: {}, message: String(Date.now() - t0) };
  }
  if (request.path === '/order') {
    const seen = [];
    await new Promise((resolve) => {
      setTimeout((x) => seen.push(x), 30, 'b');
      setTimeout((x) => seen.push(x), 0, 'a');
      const c = setTimeout(() => seen.push('cleared'), 10);
      clearTimeout(c);
      setTimeout(() => { seen.push('c'); resolve(); }, 60);
    });
    let typeError = '';
    try { setTimeout('lateRuns++', 0); } catch (e) { typeError = e.constructor.name; }
    return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify({ seen, typeError }) };
  }
  if (request.path === '/fire-and-forget') {
    setTimeout(() => { lateRuns++; console.log('a late timer ran'); }, 150);
    return { version: '1.1', statuscode: 200, headers: {}, message: 'answered' };
  }
  return { version: '1.1', statuscode: 200, headers: {}, message: String(lateRuns) };
}
`;

t.test('timers inside a request', async (t) => {
  const svc = await startService(t);
  const { port, httpdid } = await svc.deploy(HANDLER);
  const base = `http://127.0.0.1:${port}`;
  const slept = Number(await (await fetch(`${base}/sleep`)).text());
  t.ok(slept >= 75, `the handler waited its 80 ms timer (${slept} ms)`);
  t.same(JSON.parse(await (await fetch(`${base}/order`)).text()), { seen: ['a', 'b', 'c'], typeError: 'TypeError' }, 'in delay order, with their arguments; cleared never runs; no string code');

  t.equal(await (await fetch(`${base}/fire-and-forget`)).text(), 'answered');
  await new Promise((r) => setTimeout(r, 400));
  t.equal(await (await fetch(`${base}/count`)).text(), '0', 'the timer of an answered request never ran');
  const logs = JSON.stringify((await svc.api('GET', `/servers/${httpdid}/logs`)).body);
  t.notMatch(logs, /a late timer ran/);
  t.notMatch(logs, /code ran outside a request/, 'and nothing ran outside a request');
});
