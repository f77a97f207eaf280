// Hostile: every classic way out of a JavaScript sandbox reaches nothing of the host (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

const PROBES: Array<[string, string]> = [
  ['process', 'typeof process'],
  ['require', 'typeof require'],
  ['globalThis.constructor.constructor', "globalThis.constructor.constructor('return typeof process')()"],
  [
    'Function(return this)',
    "(() => { const g = Function('return this')(); return [typeof g.process, typeof g.require, typeof g.ivm, typeof g._ivm, Object.getOwnPropertyNames(g).filter((n) => /^(_?ivm|Isolate|Reference|ExternalCopy|Copy|Context|Callback|NativeModule|Dereference)$/.test(n)).join(',')].join(' '); })()",
  ],
  ['constructor chain from a request value', "request.headers.constructor.constructor('return typeof process')()"],
  ['datastream internals', "Object.getOwnPropertyNames(request.datastream).sort().join(',') + ' ' + request.datastream.read.constructor('return typeof process')()"],
  ['error stack frames', "(() => { try { null.x; } catch (e) { return /node:|internal\\/|\\.ts:|dist\\//.test(e.stack) ? 'host frames!' : 'clean'; } })()"],
  ['eval', "eval('typeof process')"],
  ['Symbol registry', "Object.getOwnPropertySymbols(globalThis).map(String).join(',')"],
];

t.test('escapes', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (
    await svc.deploy(
      hostile(`async (request) => {
    const out = {};
    ${PROBES.map(([name, expr]) => `try { out[${JSON.stringify(name)}] = String(${expr}); } catch (e) { out[${JSON.stringify(name)}] = 'threw ' + e.name; }`).join('\n    ')}
    try { await import('node:fs'); out.import = 'imported!'; } catch (e) { out.import = 'threw ' + e.name; }
    try { await import('isolated-vm'); out.importIvm = 'imported!'; } catch (e) { out.importIvm = 'threw ' + e.name; }
    return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify(out) };
  }`),
    )
  ).port;
  const r = await get(port, '/probe');
  t.equal(r.status, 200);
  const out = JSON.parse(r.text) as Record<string, string>;
  t.equal(out['process'], 'undefined');
  t.equal(out['require'], 'undefined');
  t.equal(out['globalThis.constructor.constructor'], 'undefined');
  t.equal(out['Function(return this)'], 'undefined undefined undefined undefined ');
  t.equal(out['constructor chain from a request value'], 'undefined');
  t.equal(out['datastream internals'], 'read,readAsync,text,textAsync undefined');
  t.equal(out['error stack frames'], 'clean');
  t.equal(out['eval'], 'undefined');
  t.equal(out['Symbol registry'], '');
  t.match(out['import'], /^threw /, 'import() of a host module fails');
  t.match(out['importIvm'], /^threw /);
  t.equal((await get(port, '/ok')).status, 200);
  await c.check(t);
});
