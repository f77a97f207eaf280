// The guest bootstrap (src/sandbox/guest/bootstrap.js) in a real isolate with a tenant module: handlerType, the shapes dispatchBatch, awaitResult and salvage return, and datastream reads through a host reader.

import ivm from 'isolated-vm';
import t from 'tap';
import { loadGuest } from '../helpers/guest.js';

const ENTRY = "export { awaitResult, dispatchBatch, drainLogs, handlerType, salvage, setBodyReader } from './bootstrap.js';";

const TENANT = `
export default function handler(r) {
  const q = r.path.slice(1);
  const ok = (message) => ({ version: '1.1', statuscode: 200, headers: { 'X-Path': r.path }, message });
  if (q === 'text') { console.log('text for', r.path); return ok('hello'); }
  if (q === 'binary') return ok(new Uint8Array([1, 2, 3]));
  if (q === 'throw') throw new TypeError('boom');
  if (q === 'throw-string') throw 'plain';
  if (q === 'throw-long') throw new Error('x'.repeat(2000));
  if (q === 'array') return [1];
  if (q === 'null') return null;
  if (q === 'number') return 7;
  if (q === 'bigint') return { version: '1.1', statuscode: 200, headers: {}, message: 1n };
  if (q === 'undefined-json') return { toJSON() { return undefined; } };
  if (q === 'large') return ok('y'.repeat(300));
  if (q === 'async') return Promise.resolve().then(() => { console.warn('settled'); return ok('later'); });
  if (q === 'async-throw') return (async () => { throw new Error('later boom'); })();
  if (q === 'thenable') return { then(res) { res(ok('thenable')); } };
  if (q === 'spin') for (;;) {}
  if (q === 'body') return ok(r.datastream.text());
  if (q === 'read-then-text') { const a = r.datastream.read(2); return ok(a.length + ':' + r.datastream.text()); }
  if (q === 'chunks') { const a = r.datastream.read(2), b = r.datastream.read(100), c = r.datastream.read(100), z = r.datastream.read(0); return ok([a.length, b.length, c.length, z.length].join()); }
  if (q === 'bad-size') return ok(String(r.datastream.read(-1)));
  return ok(JSON.stringify(r));
}`;

const enc = new TextEncoder();
/** One request's five entries of a dispatchBatch argument. */
function req(path: string, id: number, first: Uint8Array = new Uint8Array(0), complete = true, text: string | null = null): unknown[] {
  return [JSON.stringify({ verb: 'GET', path }), id, first, complete, text];
}
type Raw = [string, string, Uint8Array | string | null] | null;

t.test('handlerType is typeof the default export', async (t) => {
  for (const [tenant, type] of [
    [TENANT, 'function'],
    ['export default 42;', 'number'],
    ['export const x = 1;', 'undefined'],
  ] as Array<[string, string]>) {
    const g = await loadGuest(t, ENTRY, { tenant });
    t.equal(await g.entry.namespace.get('handlerType', { copy: true }), type, tenant.slice(0, 30));
  }
});

t.test('dispatchBatch: one [kind, text, message] per request, in order, and the console lines', async (t) => {
  const g = await loadGuest(t, ENTRY, { tenant: TENANT, maxResponseBytes: 256 });
  const paths = ['/text', '/binary', '/throw', '/throw-string', '/throw-long', '/array', '/null', '/number', '/bigint', '/undefined-json', '/large', '/echo'];
  const [results, logs] = await g.call<[Raw[], unknown]>(
    'dispatchBatch',
    paths.flatMap((p, i) => req(p, i + 1)),
  );
  t.equal(results.length, paths.length);
  const [text, binary, thrown, thrownString, thrownLong, array, nul, num, big, undef, large, echo] = results;
  t.same(text, ['ok', JSON.stringify({ version: '1.1', statuscode: 200, headers: { 'X-Path': '/text' }, message: '' }), 'hello'], 'a string message leaves beside the JSON, not escaped into it');
  t.equal(binary?.[0], 'ok');
  t.same(JSON.parse(binary?.[1] ?? ''), { version: '1.1', statuscode: 200, headers: { 'X-Path': '/binary' }, message: '' }, 'a binary message leaves the JSON empty');
  t.same(Array.from((binary?.[2] ?? []) as ArrayLike<number>), [1, 2, 3], 'and crosses as bytes');
  t.equal(thrown?.[0], 'exception');
  t.match(thrown?.[1] ?? '', /^boom\u0000TypeError: boom\n {4}at handler \(handler\.js:\d+:\d+\)/, 'the message, a NUL, then the stack');
  t.equal(thrown?.[2], null);
  t.same(thrownString, ['exception', 'plain', null]);
  const [longMessage, longStack] = (thrownLong?.[1] ?? '').split('\u0000');
  t.equal(longMessage, `${'x'.repeat(1024)}...`, 'the message cut at 1024 characters');
  t.ok(longStack?.startsWith('Error: x') === true && longStack.length <= 4096, 'then its stack, at most 4096 characters');
  t.same(array, ['invalid', 'response must be an object, got an array', null]);
  t.same(nul, ['invalid', 'response must be an object, got null', null]);
  t.same(num, ['invalid', 'response must be an object, got number', null]);
  t.same(big, ['invalid', 'response could not be serialized: Do not know how to serialize a BigInt', null]);
  t.same(undef, ['invalid', 'response could not be serialized', null]);
  t.same(large, ['invalid', 'response is larger than maxResponseBytes (256 bytes)', null], 'MAX_RESPONSE_BYTES from the constants module');
  t.same(JSON.parse(String(echo?.[2])), { verb: 'GET', path: '/echo', datastream: {} }, 'the request dict, with its datastream');
  t.same(logs, [['log', 'text for /text', 1]], 'the line, tagged with the id of the request whose handler wrote it');
  t.same(await g.call('drainLogs'), [], 'the batch drained them');
});

t.test('a handler that returns a thenable: null in its batch, then awaitResult', async (t) => {
  const g = await loadGuest(t, ENTRY, { tenant: TENANT });
  const [results] = await g.call<[Raw[], unknown]>('dispatchBatch', [...req('/async', 7), ...req('/async-throw', 8), ...req('/thenable', 9), ...req('/text', 10)]);
  t.same(
    results.map((r) => r?.[0] ?? null),
    [null, null, null, 'ok'],
  );
  const [kind, text, message, logs] = await g.call<[string, string, string, unknown]>('awaitResult', 7);
  t.same([kind, JSON.parse(text).message, message, logs], ['ok', '', 'later', [['warn', 'settled']]]);
  const later = (await g.call('awaitResult', 8)) as [string, string, null, unknown[]];
  t.same([later[0], later[1].split('\u0000')[0], later[2], later[3]], ['exception', 'later boom', null, []], 'the message before the stack');
  t.equal((await g.call<[string, string, string]>('awaitResult', 9))[2], 'thenable');
  t.same(await g.call('awaitResult', 7), ['invalid', 'no such request', null, [], undefined], 'each is awaited once');
});

t.test('salvage: after a batch ran out of time, the results of the requests before the one that did', async (t) => {
  const g = await loadGuest(t, ENTRY, { tenant: TENANT, timeoutMs: 200 });
  await t.rejects(g.call('dispatchBatch', [...req('/text', 1), ...req('/throw', 2), ...req('/spin', 3), ...req('/text', 4)]), { message: /timed out/ });
  t.notOk(g.isolate.isDisposed, 'isolated-vm’s timeout leaves the isolate');
  const [done, logs] = await g.call<[Raw[], unknown]>('salvage');
  t.same(
    done.map((r) => r?.[0]),
    ['ok', 'exception'],
    'two finished; the third is the one that ran out of time',
  );
  t.same(logs, [['log', 'text for /text', 1]]);
  t.same(await g.call('salvage'), [[], []], 'a salvage takes them');
});

t.test('datastream: the bytes received with the request, then more from the host reader', async (t) => {
  const g = await loadGuest(t, ENTRY, { tenant: TENANT });
  const reads: Array<[number, number]> = [];
  const rest = new Map<number, Uint8Array[]>([
    [2, [enc.encode('-more'), enc.encode('-end')]],
    [3, [enc.encode('abcdefgh')]],
  ]);
  const reader = async (id: number, max: number): Promise<unknown> => {
    reads.push([id, max]);
    const next = rest.get(id)?.shift() ?? new Uint8Array(0);
    return new ivm.ExternalCopy(next).copyInto({ release: true });
  };
  const set = (await g.entry.namespace.get('setBodyReader', { reference: true })) as ivm.Reference<(r: unknown) => void>;
  await set.apply(undefined, [new ivm.Reference(reader)]);
  const [results] = await g.call<[Raw[], unknown]>('dispatchBatch', [
    ...req('/body', 1, enc.encode('complete'), true),
    ...req('/body', 2, enc.encode('first'), false),
    ...req('/chunks', 3, enc.encode('xyz'), false),
    ...req('/bad-size', 4),
    ...req('/body', 5, enc.encode('the bytes'), true, 'decoded by the host'),
    ...req('/read-then-text', 6, enc.encode('hello'), true, 'hello'),
  ]);
  const messages = results.map((r) => (r?.[0] === 'ok' ? r[2] : r));
  const last = messages[3] as [string, string, null];
  t.same(
    [...messages.slice(0, 3), [last[0], last[1].split('\u0000')[0], last[2]]],
    ['complete', 'first-more-end', '2,1,8,0', ['exception', 'datastream.read(size): size must be a non-negative integer', null]],
  );
  t.equal(messages[4], 'decoded by the host', 'text() of a complete body is the text the host decoded, while nothing was read');
  t.equal(messages[5], '2:llo', 'after a read, text() decodes the rest of the bytes');
  t.same(
    reads,
    [
      [2, -1],
      [2, -1],
      [2, -1],
      [3, 100],
    ],
    'a complete body never asks the host; read() asks for all the rest (-1) until an empty answer, read(n) for at most n',
  );
});
