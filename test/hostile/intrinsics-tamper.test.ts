// Hostile: tenant code that replaces the intrinsics the trusted bootstrap uses (at module level, before its first request, or during one) breaks only its own responses, never the worker: each request gets an answer, a non-Uint8Array body is an invalid response, the neighbour keeps answering and the worker never exits (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { freePort, startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

const TAMPERS: Record<string, string> = {
  'Uint8Array replaced': `globalThis.Uint8Array = function () { return { byteLength: 5, length: 5 }; };`,
  'JSON.parse replaced': `JSON.parse = () => ({ path: '/evil' }); JSON.stringify = () => '{"statuscode":200}';`,
  'Array.prototype.push replaced': `Array.prototype.push = function () { return 0; };`,
  'Map.prototype replaced': `Map.prototype.get = () => undefined; Map.prototype.set = function () { return this; }; Map.prototype.delete = () => false;`,
  'Promise.prototype.then replaced': `const then = Promise.prototype.then; Promise.prototype.then = function (a, b) { return then.call(this, () => { throw new Error('tampered'); }, b); };`,
  'Object.prototype setters': `Object.defineProperty(Object.prototype, 'get', { get() { throw new Error('boom'); }, configurable: true }); Object.defineProperty(Array.prototype, '0', { set() {}, configurable: true });`,
  'Function.prototype.call and apply replaced': `Function.prototype.call = function () { throw new Error('no call'); }; Function.prototype.apply = function () { throw new Error('no apply'); };`,
  'Symbol.iterator replaced': `Array.prototype[Symbol.iterator] = function* () { yield 'evil'; };`,
  'String.prototype replaced': `String.prototype.slice = () => 'x'; String.prototype.toLowerCase = () => 'x';`,
};

for (const [name, tamper] of Object.entries(TAMPERS)) {
  t.test(name, async (t) => {
    const svc = await startService(t, ['--workers', '1']);
    const c = await contain(svc);
    const neighbour = c.neighbour;
    // Once at module level, once inside a request (then every request after it sees the tampered globals).
    const modPort = await freePort();
    const atModule = await svc.api('POST', '/servers', {
      host: '127.0.0.1',
      port: modPort,
      source: `${tamper}\nexport default function handler() { return { version: '1.1', statuscode: 200, headers: {}, message: hi() }; }
function hi() { const b = new Uint8Array(2); b[0] = 104; b[1] = 105; return b; }`,
    });
    t.ok([201, 422].includes(atModule.status), `module level: deploy answered ${atModule.status}`);
    if (atModule.status === 201) {
      for (let i = 0; i < 3; i++) {
        const r = await get(modPort, '/');
        t.ok(r.status === 200 || r.status >= 500, `module level, request ${i}: answered ${r.status} ${r.text.trim().slice(0, 80)}`);
        if (r.status === 200) t.equal(r.text, 'hi', 'a 200 carries the handler body');
      }
    }
    const { port } = await svc.deploy(hostile(`(r) => { if (r.path === '/tamper') { ${tamper} } return { version: '1.1', statuscode: 200, headers: {}, message: new Uint8Array([104, 105]) }; }`));
    for (const path of ['/tamper', '/after', '/ok', '/after']) {
      const r = await get(port, path);
      t.ok(r.status === 200 || r.status >= 500, `in a request, ${path}: answered ${r.status} ${r.text.trim().slice(0, 80)}`);
    }
    await c.check(t);
    t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
    const list = await svc.api('GET', `/servers/${neighbour.httpdid}`);
    t.equal(list.body.stats.workerRestarts, 0, 'no worker restart');
  });
}

t.test('a non-Uint8Array body is an invalid response', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(
    `globalThis.Uint8Array = function () { return { byteLength: 5, length: 5 }; };
    export default function handler() { return { version: '1.1', statuscode: 200, headers: {}, message: new Uint8Array() }; }`,
    undefined,
    undefined,
    { exposeErrors: true },
  );
  const r = await get(port, '/');
  t.equal(r.status, 500, 'invalid response');
  t.match(r.text, /binary message must be a Uint8Array|response/, 'says why');
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.invalidResponse === 1);
  t.equal(stats.outcomes.invalidResponse, 1, 'counted as invalidResponse');
});
