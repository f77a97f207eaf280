// Hostile: deeply nested values — parsed, stringified, logged, thrown or returned to the host as the response — are a RangeError or an invalid response inside the request's limits, never a native stack overflow of the worker: each request gets its answer, a neighbour on the same worker keeps answering within 2 s, the worker's RSS stays bounded.
//
// Sources: native stack overflows of recursive JSON parsers on deep input — openclaw/openclaw#129209
// (https://github.com/openclaw/openclaw/issues/129209), akheron/jansson#282
// (https://github.com/akheron/jansson/issues/282), PerryTS/perry#7792 (JSON.parse segfaults on
// deeply nested input; https://github.com/PerryTS/perry/issues/7792); here the host's own parse,
// schema check and copy of what a tenant returns are the recursive code at risk.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

// Deep enough for a recursive parser or schema check on the host's 1 MiB stack; shallow enough for the
// isolate (whose thread has a far larger stack) to build and serialize it within its time limit.
const DEPTH = 10_000;
/** A value nested DEPTH arrays deep, built without recursion. */
const DEEP = `(() => { let v = []; for (let i = 0; i < ${DEPTH}; i++) v = [v]; return v; })()`;
const DEEP_OBJECT = `(() => { let v = {}; for (let i = 0; i < ${DEPTH}; i++) v = { a: v }; return v; })()`;

/** path → [the handler's expression, the statuses it may get]. */
const CASES: Record<string, [string, number[]]> = {
  '/parse': [`String(JSON.parse('['.repeat(${DEPTH}) + ']'.repeat(${DEPTH})).length)`, [200]],
  '/stringify': [`JSON.stringify(${DEEP}).length`, [200, 500]],
  '/to-string': [`String(${DEEP})`, [200, 500]],
  '/structured-log': [`(console.log(${DEEP_OBJECT}), 'logged')`, [200]],
  '/thrown': [`(() => { const e = new Error('deep'); e.cause = ${DEEP}; throw e; })()`, [500]],
};

/** path → a response whose fields the host receives nested. */
const RESPONSES: Record<string, string> = {
  '/deep-header': `{ version: '1.1', statuscode: 200, headers: { 'x-deep': ${DEEP} }, message: 'm' }`,
  '/deep-message': `{ version: '1.1', statuscode: 200, headers: {}, message: ${DEEP_OBJECT} }`,
  '/deep-extra': `{ version: '1.1', statuscode: 200, headers: {}, message: 'm', extra: ${DEEP} }`,
  '/deep-headers-object': `{ version: '1.1', statuscode: 200, headers: ${DEEP_OBJECT}, message: 'm' }`,
};

t.test('deeply nested values', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => {
      const cases = ${JSON.stringify(Object.fromEntries(Object.entries(CASES).map(([p, [e]]) => [p, e])))};
      const responses = ${JSON.stringify(RESPONSES)};
      if (r.path in responses) return (0, eval)('(' + responses[r.path] + ')');
      if (r.path in cases) return { version: '1.1', statuscode: 200, headers: {}, message: String((0, eval)(cases[r.path])) };
      return { version: '1.1', statuscode: 404, headers: {}, message: '' };
    }`),
    { timeoutMs: 5000, memoryMb: 128, cpuShareWindowMs: 60000 },
  );
  const paths: Array<[string, number[]]> = [...Object.entries(CASES).map(([p, [, want]]): [string, number[]] => [p, want]), ...Object.keys(RESPONSES).map((p): [string, number[]] => [p, [500]])];
  for (const [path, want] of paths) {
    const r = await get(port, path);
    t.ok(want.includes(r.status), `${path}: ${want.join(' or ')} (${r.status} ${r.text.trim().slice(0, 100)})`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  t.notMatch(svc.output(), /sandbox worker exited/, 'the worker never exited');
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.ok >= paths.length);
  t.equal(stats.outcomes.crashed, 0, 'nothing crashed');
  t.equal(stats.workerRestarts, 0, 'the worker never restarted');
  await c.check(t, { memoryMb: 128 });
});
