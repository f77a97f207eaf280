// Hostile: proxies, thenables and species hooks where the trusted bootstrap touches a tenant value (the thrown value it describes, the promise it awaits, the response it checks) run tenant code only within the request's time limit and never crash the worker: each request gets its answer at its deadline, a neighbour on the same worker keeps answering and the worker's RSS stays bounded.
//
// Sources: vm2 CVE-2023-29017 (a callback reached through Promise machinery ran where the sandbox did not
// wrap it; https://github.com/patriksimek/vm2/issues/515), vm2#562 (Array[Symbol.species] self-return
// defence missing; https://github.com/patriksimek/vm2/issues/562), isolated-vm#318 (a timeout not
// triggered while a promise is awaited; https://github.com/laverdet/isolated-vm/issues/318).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, timedDeploy } from './helpers.js';

const SPIN = '{ for (;;) {} }';

/** path → [attack, the status it must get]. */
const CASES: Record<string, [string, number]> = {
  // The bootstrap awaits the handler's result: a thenable whose `then` spins, or never calls back.
  '/thenable-spin': [`() => ({ then() ${SPIN} })`, 504],
  '/thenable-never': ['() => ({ then() {} })', 504],
  '/thenable-getter': [`() => ({ get then() ${SPIN} })`, 504],
  // The bootstrap describes what the handler threw (`'message' in e`, `e.message`).
  '/throw-proxy-has': [`() => { throw new Proxy({}, { has() ${SPIN} }); }`, 504],
  '/throw-proxy-get': [`() => { throw new Proxy({ message: 'm' }, { get() ${SPIN} }); }`, 504],
  '/throw-revoked': [`() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy; }`, 500],
  // The response object itself, through every trap a check may use.
  // Not a trap the bootstrap uses: served as the plain object it wraps.
  '/response-getproto': [`() => new Proxy({ version: '1.1', statuscode: 200, headers: {}, message: 'p' }, { getPrototypeOf() ${SPIN} })`, 200],
  '/response-ownkeys': [`() => ({ version: '1.1', statuscode: 200, headers: new Proxy({}, { ownKeys() ${SPIN} }), message: 'p' })`, 504],
  '/response-revoked': [`() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy; }`, 500],
  '/headers-revoked': [`() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return { version: '1.1', statuscode: 200, headers: proxy, message: 'p' }; }`, 500],
  '/message-tostring': [`() => ({ version: '1.1', statuscode: 200, headers: {}, message: { toString() ${SPIN} } })`, 500],
  '/status-valueof': [`() => ({ version: '1.1', statuscode: { valueOf() ${SPIN} }, headers: {}, message: 'p' })`, 500],
  // Species hooks on the intrinsics the bootstrap's own arrays and promises use, set during the request.
  '/array-species': [
    `() => { Object.defineProperty(Array, Symbol.species, { get() ${SPIN}, configurable: true }); return { version: '1.1', statuscode: 200, headers: { a: '1' }, message: [1, 2].map(String).join() }; }`,
    504,
  ],
  '/promise-species': [
    `async () => { Object.defineProperty(Promise, Symbol.species, { get() ${SPIN}, configurable: true }); await null; return { version: '1.1', statuscode: 200, headers: {}, message: 'p' }; }`,
    0,
  ],
};

t.test('proxies and thenables at request time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const table = JSON.stringify(Object.fromEntries(Object.entries(CASES).map(([p, [a]]) => [p, a])));
  const { port } = await svc.deploy(hostile(`(r) => (${table}[r.path] ? (0, eval)('(' + ${table}[r.path] + ')')(r) : { version: '1.1', statuscode: 404, headers: {}, message: '' })`), {
    timeoutMs: 300,
    cpuShareWindowMs: 60000,
  });
  for (const [path, [, want]] of Object.entries(CASES)) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    if (want === 0) t.ok([200, 500, 504].includes(r.status), `${path}: answered ${r.status} ${r.text.trim().slice(0, 100)}`);
    else t.equal(r.status, want, `${path}: ${want} (${r.status} ${r.text.trim().slice(0, 100)})`);
    t.ok(ms < 2000, `${path}: within its deadline plus a bounded margin (${ms.toFixed(0)} ms, timeoutMs 300)`);
    const ok = await get(port, '/ok');
    t.equal(ok.status, 200, `${path}: served after`);
  }
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
  await c.check(t);
});

const DEPLOY_CASES: Record<string, string> = {
  'a default export that is a spinning proxy': `export default new Proxy(function () {}, { apply() ${SPIN}, get() ${SPIN}, getPrototypeOf() ${SPIN} });`,
  'a default export behind a spinning getter of the namespace': `const o = {}; Object.defineProperty(o, 'x', { get() ${SPIN} });\nexport default o.x;`,
  'a top-level await on a spinning thenable': `await { then() ${SPIN} };\nexport default () => ({});`,
  'a top-level await on a revoked proxy': `const { proxy, revoke } = Proxy.revocable({}, {}); revoke();\nawait proxy;\nexport default () => ({});`,
  'species hooks set at module level': `Object.defineProperty(Array, Symbol.species, { get() ${SPIN} }); Object.defineProperty(Promise, Symbol.species, { get() ${SPIN} });\nexport default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'm' });`,
};

t.test('proxies and thenables at deploy time', async (t) => {
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
      t.ok([200, 500, 504].includes(res.status), `${name}: a request answered ${res.status} ${res.text.trim().slice(0, 80)}`);
      t.ok(ms1 < 2000, `${name}: within its deadline plus a bounded margin (${ms1.toFixed(0)} ms)`);
      await svc.api('DELETE', `/servers/${r.body.httpdid}`);
    }
  }
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
  await c.check(t);
});
