// Hostile: V8's stack-trace API (Error.prepareStackTrace, Error.captureStackTrace, Error.stackTraceLimit, CallSite objects) — the route of vm2's escapes — reaches no host object and runs tenant code only within a time limit: a spinning hook at a request or at a deploy gets 504/422 at its deadline, CallSites expose no trusted function, a neighbour on the same worker keeps answering and the worker's RSS stays bounded.
//
// Sources: vm2 CVE-2022-36067 "Sandbreak" (a prepareStackTrace override handed CallSites whose getThis()
// was a host object; https://github.com/patriksimek/vm2/issues/515), vm2#562 (no safe prepareStackTrace
// default; `error.name = Symbol(); error.stack` makes the engine raise errors of its own realm;
// https://github.com/patriksimek/vm2/issues/562), isolated-vm#115 (error stacks copied out of an isolate
// carry host paths; https://github.com/laverdet/isolated-vm/issues/115).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, timedDeploy } from './helpers.js';

const SPIN_HOOK = 'Error.prepareStackTrace = () => { for (;;) {} };';

const REQUEST_CASES: Record<string, string> = {
  // A hook that never returns, with an error thrown by the handler and one raised by V8 itself.
  '/hook-spin-throw': `() => { ${SPIN_HOOK} throw new Error('x'); }`,
  '/hook-spin-engine': `() => { ${SPIN_HOOK} null.x; }`,
  '/hook-spin-read': `() => { ${SPIN_HOOK} return { version: '1.1', statuscode: 200, headers: {}, message: String(new Error('x').stack) }; }`,
  // captureStackTrace onto an object whose properties spin when the host describes it.
  '/capture-getter': `() => { const o = { get message() { for (;;) {} } }; Error.captureStackTrace(o); throw o; }`,
  // vm2#562's error-generation primitive: a Symbol name makes formatting the stack throw.
  '/symbol-name': `() => { const e = new Error('x'); e.name = Symbol('s'); let s; try { s = String(e.stack); } catch (err) { s = 'threw ' + err.constructor.name; } return { version: '1.1', statuscode: 200, headers: {}, message: s.slice(0, 40) }; }`,
  '/symbol-name-thrown': `() => { const e = new Error('x'); e.name = Symbol('s'); throw e; }`,
  // An unbounded trace of a stack overflow: one string of every frame.
  '/limit-infinity': `() => { Error.stackTraceLimit = Infinity; const f = (n) => f(n + 1) + 1; f(0); }`,
};

/** What a hook learns from every CallSite of a trace taken inside the handler: which frames expose a function or a receiver, and which files they name. */
const CALLSITES = `() => {
  const seen = [];
  Error.prepareStackTrace = (_e, sites) => sites.map((s) => ({ file: String(s.getFileName()), fn: typeof s.getFunction(), self: typeof s.getThis(), evalOrigin: String(s.getEvalOrigin()) }));
  const frames = (function probe() { return new Error('probe').stack; })();
  Error.prepareStackTrace = undefined;
  for (const f of frames) seen.push(f.file + ' fn=' + f.fn + ' this=' + f.self);
  return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify(seen) };
}`;

t.test('stack-trace hooks at request time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { port } = await svc.deploy(
    hostile(
      `(r) => (r.path === '/callsites' ? (${CALLSITES})() : ${JSON.stringify(REQUEST_CASES)}[r.path] ? (0, eval)('(' + ${JSON.stringify(REQUEST_CASES)}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`,
    ),
    // The CPU share over a 60 s window: back-to-back spins at their time limit stay under it (the cool-down is cpu-throttle's).
    { timeoutMs: 300, cpuShareWindowMs: 60000 },
  );
  for (const path of Object.keys(REQUEST_CASES)) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    t.ok([200, 500, 504].includes(r.status), `${path}: answered ${r.status} ${r.text.trim().slice(0, 100)}`);
    // V8 formats a stack lazily: a hook runs when something reads `stack`; the bootstrap reads a thrown error's stack
    // (for the tenant's log), inside the request's call: a spinning hook ends at the request's deadline like any tenant code.
    if (path === '/hook-spin-read' || path === '/capture-getter') t.equal(r.status, 504, `${path}: the hook ran within the request's time limit`);
    if (path === '/hook-spin-throw' || path === '/hook-spin-engine') t.equal(r.status, 504, `${path}: the stack read for the log ran the hook within the request's time limit`);
    t.ok(ms < 2000, `${path}: within its deadline plus a bounded margin (${ms.toFixed(0)} ms, timeoutMs 300)`);
    t.notMatch(r.text, /node:|internal\/|dist\/|\.ts:/, `${path}: no host frame in the answer`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  const sites = await get(port, '/callsites');
  t.equal(sites.status, 200, 'CallSites can be read');
  const frames = JSON.parse(sites.text) as string[];
  t.ok(frames.length > 0, `${frames.length} frames`);
  // Module code is strict: V8 gives no function and no receiver of a strict frame. Only the tenant's own
  // sloppy eval frames could expose one; no frame may belong to the host or the trusted bootstrap.
  for (const f of frames) {
    t.notMatch(f, /node:|internal\/|dist\/|\.ts\b|isolated-vm/, `no host file: ${f}`);
    if (!/^(handler\.js|undefined|null)/.test(f)) t.match(f, /fn=undefined this=undefined/, `a trusted frame exposes nothing: ${f}`);
  }
  await c.check(t);
});

const DEPLOY_CASES: Record<string, string> = {
  'a spinning hook, then a throw at module level': `${SPIN_HOOK}\nthrow new Error('boom');\nexport default () => ({});`,
  'a spinning hook, then a V8 error at module level': `${SPIN_HOOK}\nnull.x;\nexport default () => ({});`,
  'a thrown object whose message spins': `throw { get message() { for (;;) {} }, get stack() { for (;;) {} } };\nexport default () => ({});`,
  'a spinning hook left for the bootstrap': `${SPIN_HOOK}\nexport default () => { throw new Error('later'); };`,
};

t.test('stack-trace hooks at deploy time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  for (const [name, source] of Object.entries(DEPLOY_CASES)) {
    const { port, ms, ...r } = await timedDeploy(svc.api, source, { timeoutMs: 300 });
    t.ok([201, 422].includes(r.status), `${name}: deploy answered ${r.status} ${JSON.stringify(r.body?.error?.message ?? '')}`);
    t.ok(ms < 5000, `${name}: answered in ${ms.toFixed(0)} ms (timeoutMs 300)`);
    if (r.status === 201) {
      const t1 = performance.now();
      const res = await get(port, '/');
      const ms1 = performance.now() - t1;
      t.ok([500, 504].includes(res.status), `${name}: a request answered ${res.status} ${res.text.trim().slice(0, 80)}`);
      t.ok(ms1 < 2000, `${name}: within its deadline plus a bounded margin (${ms1.toFixed(0)} ms)`);
      await svc.api('DELETE', `/servers/${r.body.httpdid}`);
    }
  }
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
  await c.check(t);
});
