// What tenant code sees: standard built-ins, console, TextEncoder/TextDecoder, atob/btoa, URLSearchParams, URL — and no timers, process, require or host objects.

import t from 'tap';
import { startService } from './helpers/service.js';

const PROBE = `
const enc = new TextEncoder();             // usable at module level too
console.log('module loaded', { n: 1 });
export default (r) => {
  const out = {
    encode: Array.from(enc.encode('é€😀')),
    decode: new TextDecoder().decode(new Uint8Array([0xc3, 0xa9, 0xe2, 0x82, 0xac])),
    decodeBom: new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
    fatal: (() => { try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])); return 'no'; } catch (e) { return e.name; } })(),
    latin1: (() => { try { new TextDecoder('latin1'); return 'no'; } catch (e) { return e.name; } })(),
    btoa: btoa('hello\\xff'),
    atob: atob('aGVsbG8='),
    atobBad: (() => { try { atob('!!'); return 'no'; } catch (e) { return e.name; } })(),
    usp: (() => { const p = new URLSearchParams('?a=1&b=x+y%21&a=2&c'); p.append('d', 'é &='); p.set('a', '3'); return [p.get('a'), p.getAll('b'), p.has('c'), p.get('zz'), p.size, p.toString(), [...new URLSearchParams({ k: 'v' })].join()]; })(),
    url: (() => { const u = new URL('/p?a=1', 'http://h'); return [typeof URL, u.href, u.searchParams.get('a'), u.searchParams instanceof URLSearchParams]; })(),
    builtins: [typeof Map, typeof Promise, typeof JSON, typeof Intl, typeof WebAssembly, typeof BigInt, typeof structuredClone],
    absent: [typeof setInterval, typeof process, typeof require, typeof Buffer, typeof module, typeof ivm, typeof _ivm],
    present: [typeof setTimeout, typeof clearTimeout, typeof queueMicrotask, typeof Headers, typeof Request, typeof Response, typeof fetch],
  };
  console.log('request', r.path);
  console.info('info');
  console.warn('warn');
  console.error(new Error('oops'));
  console.log('x'.repeat(5000));
  return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify(out) };
};`;

t.test('globals', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(PROBE);
  const out = (await (await fetch(`http://127.0.0.1:${port}/probe`)).json()) as Record<string, unknown>;
  t.same(out['encode'], [...Buffer.from('é€😀')]);
  t.equal(out['decode'], 'é€');
  t.equal(out['decodeBom'], 'A');
  t.equal(out['fatal'], 'TypeError');
  t.equal(out['latin1'], 'RangeError');
  t.equal(out['btoa'], Buffer.from('hello\xff', 'latin1').toString('base64'));
  t.equal(out['atob'], 'hello');
  t.equal(out['atobBad'], 'InvalidCharacterError');
  t.same(out['usp'], ['3', ['x y!'], true, null, 4, 'a=3&b=x+y%21&c=&d=%C3%A9+%26%3D', 'k,v'], 'URLSearchParams');
  t.same(out['url'], ['function', 'http://h/p?a=1', '1', true], 'URL (see url-global.test.ts)');
  t.same(out['builtins'], ['function', 'function', 'object', 'object', 'object', 'function', 'undefined']);
  t.same(out['absent'], Array(7).fill('undefined'), 'no setInterval, process, require, Buffer, module or isolated-vm');
  t.same(out['present'], Array(7).fill('function'), 'setTimeout, clearTimeout, queueMicrotask, Headers, Request, Response, fetch (the host performs it, under the egress policy)');

  const logs = await svc.api('GET', `/servers/${httpdid}/logs`);
  t.equal(logs.status, 200);
  const lines = logs.body.lines as Array<{ time: string; level: string; message: string }>;
  t.same(
    lines.slice(0, 5).map((l) => [l.level, l.message.split('\n')[0]]),
    [
      ['log', 'module loaded {"n":1}'],
      ['log', 'request /probe'],
      ['info', 'info'],
      ['warn', 'warn'],
      ['error', 'Error: oops'],
    ],
  );
  t.equal(lines[5]?.message.length, 4096, 'lines are capped at 4 KiB');
  t.ok(
    lines.every((l) => !Number.isNaN(Date.parse(l.time))),
    'with times',
  );
  t.notMatch(svc.output(), /module loaded|request \/probe/, 'console output never reaches the service log');
  t.equal((await svc.api('GET', '/servers/999/logs')).status, 404);
});

t.test('the console ring buffer keeps the last 1000 lines', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(`let n = 0;
export default () => { for (let i = 0; i < 400; i++) console.log('line ' + (n++)); return { version: '1.1', statuscode: 204, headers: {}, message: '' }; };`);
  for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${port}/`);
  await new Promise((r) => setTimeout(r, 200));
  const lines = (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines as Array<{ message: string }>;
  t.equal(lines.length, 1000);
  t.equal(lines[0]?.message, 'line 200');
  t.equal(lines[999]?.message, 'line 1199');
});
