// waitUntil: work a handler hands to `ctx.waitUntil` (the third argument of both handler forms) goes on after the response is written, its timers still fire, a rejection is logged; it is stopped at waitUntilMs (its pending timers cancelled, a console line says so).

import t from 'tap';
import { logsMatching } from './helpers/logs.js';
import { startService } from './helpers/service.js';

const HANDLER = `let release = null;
let state = 'idle';
let late = 0;
export default function handler(request, env, ctx) {
  const res = (message) => ({ version: '1.1', statuscode: 200, headers: {}, message });
  switch (request.path) {
    case '/start':
      state = 'waiting';
      // Done only once /release is called, which the client does after it has this answer.
      ctx.waitUntil(new Promise((resolve) => { release = resolve; }).then(() => new Promise((r) => setTimeout(r, 20))).then(() => { state = 'done'; }));
      return res('started');
    case '/release':
      release?.();
      return res('released');
    case '/state':
      return res(state);
    case '/reject':
      ctx.waitUntil(Promise.reject(new Error('background boom')));
      return res('rejected later');
    case '/forever':
      ctx.waitUntil(new Promise(() => {}));
      setTimeout(() => { late++; }, 1500);
      return res('forever');
    case '/late':
      return res(String(late));
    default:
      return res('?');
  }
}
`;

const poll = async (url: string, want: string): Promise<string> => {
  let got = '';
  for (let i = 0; i < 60; i++) {
    got = await (await fetch(url)).text();
    if (got === want) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return got;
};

t.test('waitUntil work runs after the response, within waitUntilMs', async (t) => {
  const svc = await startService(t);
  const { port, httpdid } = await svc.deploy(HANDLER, { waitUntilMs: 1000 });
  const base = `http://127.0.0.1:${port}`;
  t.equal(await (await fetch(`${base}/start`)).text(), 'started', 'answered while its waitUntil work is pending');
  t.equal(await (await fetch(`${base}/state`)).text(), 'waiting', 'the work has not finished');
  t.equal(await (await fetch(`${base}/release`)).text(), 'released');
  t.equal(await poll(`${base}/state`, 'done'), 'done', 'it finishes after the response, its timer firing');

  t.equal(await (await fetch(`${base}/reject`)).text(), 'rejected later', 'a rejected waitUntil promise does not fail the response');
  t.match(await logsMatching(svc, httpdid, /background boom/), /a waitUntil promise rejected: background boom/, 'it is logged');

  t.equal(await (await fetch(`${base}/forever`)).text(), 'forever');
  t.match(await logsMatching(svc, httpdid, /still pending after waitUntilMs/), /waitUntil work still pending after waitUntilMs \(1000 ms\): stopped/, 'stopped at waitUntilMs, and logged');
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(await (await fetch(`${base}/late`)).text(), '0', 'its timer (1.5 s) was cancelled with it');
});

const WORKER = `let log = [];
export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/log') return new Response(JSON.stringify(log));
    ctx.waitUntil(new Promise((r) => setTimeout(r, 50)).then(() => log.push('after')));
    log.push('answered');
    return new Response('ok');
  },
};
`;

t.test('a Workers-style handler: ctx.waitUntil after the response', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(WORKER);
  t.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok');
  t.equal(await poll(`http://127.0.0.1:${port}/log`, '["answered","after"]'), '["answered","after"]', 'the work ran after the answer');
});
