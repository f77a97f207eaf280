// src/sandbox/ivm-outcome.ts, the one place an isolate call's failure or result becomes an outcome: cases from errors that real isolates produce, and the literal messages isolated-vm 7 uses.

import ivm from 'isolated-vm';
import t, { type Test } from 'tap';
import {
  catastrophicResult,
  crashed,
  evaluationErrorText,
  exportReadErrorText,
  failureOutcome,
  isTimedOut,
  RESET,
  resultOutcome,
  sourceErrorText,
  stoppedByTimeout,
  timeoutResult,
  UNSETTLED_TEXT,
} from '../../src/sandbox/ivm-outcome.js';

const LIMITS = { memoryMb: 16, timeoutMs: 50, maxResponseBytes: 200, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 };
const TIMEOUT = { outcome: 'timeout', detail: 'handler exceeded its time limit (50 ms)' };
const MEMORY = { outcome: 'memory', detail: 'handler exceeded its memory limit (16 MiB)' };

/** A fresh isolate under the test's memory limit, disposed when the test ends. */
function freshIsolate(t: Test): ivm.Isolate {
  const isolate = new ivm.Isolate({ memoryLimit: LIMITS.memoryMb });
  t.teardown(() => {
    if (!isolate.isDisposed) isolate.dispose();
  });
  return isolate;
}

/** Compiles `code` as handler.js, instantiates it without imports and evaluates it: the module and what evaluation rejected with (null if it resolved). */
async function evaluateModule(isolate: ivm.Isolate, context: ivm.Context, code: string, timeout: number): Promise<{ mod: ivm.Module; err: unknown }> {
  const mod = await isolate.compileModule(code, { filename: 'handler.js' });
  await mod.instantiate(context, () => {
    throw new Error('no imports');
  });
  const err = await mod.evaluate({ timeout }).then(
    () => null,
    (e: unknown) => e,
  );
  return { mod, err };
}

/** What calling `fn` (a function expression) in a fresh isolate rejects with, and whether the isolate was disposed. */
async function failure(t: Test, fn: string, options: { timeout?: number; disposeAfterMs?: number; disposeFirst?: boolean } = {}): Promise<{ err: unknown; disposed: boolean }> {
  const isolate = freshIsolate(t);
  const context = await isolate.createContext();
  const ref = (await context.eval(fn, { reference: true })) as ivm.Reference<() => unknown>;
  if (options.disposeFirst === true) isolate.dispose();
  const call = ref.apply(undefined, [], options.timeout === undefined ? {} : { timeout: options.timeout });
  if (options.disposeAfterMs !== undefined) setTimeout(() => isolate.dispose(), options.disposeAfterMs);
  try {
    await call;
  } catch (err) {
    return { err, disposed: isolate.isDisposed };
  }
  throw new Error(`${fn} did not fail`);
}

t.test('isolated-vm’s timeout: `timeout`, and a batch stopped by it can be salvaged', async (t) => {
  const { err, disposed } = await failure(t, '(function () { for (;;) {} })', { timeout: 20 });
  t.match(err, { message: 'Script execution timed out.' }, 'the real message');
  t.notOk(disposed);
  t.same(failureOutcome(err, false, LIMITS), TIMEOUT);
  t.ok(stoppedByTimeout(err, disposed));
});

t.test('over the memory limit: `memory`, the isolate is gone (nothing to salvage)', async (t) => {
  const { err, disposed } = await failure(t, '(function () { const keep = []; for (;;) keep.push({ n: Math.random() }); })', { timeout: 20_000 });
  t.match(err, { message: 'Isolate was disposed during execution due to memory limit' }, 'the real message');
  t.ok(disposed);
  t.same(failureOutcome(err, false, LIMITS), MEMORY);
  t.notOk(stoppedByTimeout(err, disposed));
  t.same(failureOutcome(err, true, LIMITS), TIMEOUT, 'past its deadline, a request is told `timeout` whatever the cause');
});

t.test('an error thrown across the boundary: the sandbox was reset (only the bootstrap could throw one there)', async (t) => {
  const { err, disposed } = await failure(t, "(function () { throw new TypeError('boom'); })");
  t.match(err, { name: 'TypeError', message: 'boom' });
  t.notOk(disposed);
  t.same(failureOutcome(err, false, LIMITS), RESET);
  t.same(RESET, crashed('the sandbox was reset while this request ran'));
  t.notOk(stoppedByTimeout(err, disposed));
  const thrownString = await failure(t, "(function () { throw 'plain'; })");
  t.same(failureOutcome(thrownString.err, false, LIMITS), RESET, 'a thrown non-Error');
});

t.test('a disposed isolate: before the call or during it, the sandbox was reset', async (t) => {
  const before = await failure(t, '(function () { return 1; })', { disposeFirst: true });
  t.match(before.err, { message: 'Isolate is disposed' });
  t.same(failureOutcome(before.err, false, LIMITS), RESET);
  const during = await failure(t, '(function () { for (;;) {} })', { disposeAfterMs: 30 });
  t.match(during.err, { message: 'Isolate was disposed during execution' });
  t.ok(during.disposed);
  t.same(failureOutcome(during.err, false, LIMITS), RESET, 'disposed under it by another request’s deadline');
  t.same(failureOutcome(during.err, true, LIMITS), TIMEOUT, 'disposed by its own deadline');
  t.notOk(stoppedByTimeout(during.err, during.disposed));
});

t.test('the literal messages', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['Script execution timed out.', TIMEOUT],
    ['Isolate was disposed during execution due to memory limit', MEMORY],
    ['Isolate was disposed during execution', RESET],
    ['Isolate is disposed', RESET],
    ['Promise was abandoned', RESET],
    ['anything else', RESET],
  ];
  for (const [message, outcome] of cases) {
    t.same(failureOutcome(new Error(message), false, LIMITS), outcome, message);
    t.same(failureOutcome(message, false, LIMITS), outcome, `${message} (thrown as a string)`);
  }
  t.ok(isTimedOut('Error: Script execution timed out.'));
  t.notOk(isTimedOut('Error: Isolate is disposed'));
  t.ok(stoppedByTimeout(new Error('Script execution timed out.'), false));
  t.notOk(stoppedByTimeout(new Error('Script execution timed out.'), true), 'not once the isolate is gone');
  t.same(timeoutResult(LIMITS), TIMEOUT);
});

t.test('isolated-vm lost control of an isolate (onCatastrophicError): its out-of-memory is `memory`, anything else `crashed`', async (t) => {
  // The two messages isolated-vm 7.0.1 raises (environment.cc, run_with_timeout.h).
  t.same(catastrophicResult('Catastrophic out-of-memory error', LIMITS), MEMORY);
  t.same(catastrophicResult('Script failed to terminate', LIMITS), crashed('the sandbox was lost: Script failed to terminate'));
  t.equal((catastrophicResult('x'.repeat(1000), LIMITS) as { detail: string }).detail.length, 'the sandbox was lost: '.length + 200, 'the detail is bounded');
});

t.test('what the bootstrap returned: ok once valid, else exception or invalidResponse', async (t) => {
  const valid = JSON.stringify({ version: '1.1', statuscode: 201, headers: { 'X-A': 1 }, message: 'hi' });
  const ok = resultOutcome(['ok', valid, null], LIMITS);
  t.equal(ok.outcome, 'ok');
  if (ok.outcome === 'ok') t.same([ok.response.statuscode, ok.response.headers, ok.response.body.toString()], [201, { 'X-A': 1 }, 'hi']);
  const binary = resultOutcome(['ok', JSON.stringify({ version: '1.1', statuscode: 200, headers: {}, message: '' }), new Uint8Array([7, 8])], LIMITS);
  t.same(binary.outcome === 'ok' ? Array.from(binary.response.body) : binary, [7, 8], 'a binary message is the body');
  t.same(resultOutcome(['exception', 'boom', null], LIMITS), { outcome: 'exception', detail: 'handler raised: boom' });
  t.same(
    resultOutcome(['exception', 'boom\u0000Error: boom\n    at handler (handler.js:3:9)', null], LIMITS),
    { outcome: 'exception', detail: 'handler raised: boom', stack: 'Error: boom\n    at handler (handler.js:3:9)' },
    'the stack after a NUL',
  );
  t.same(resultOutcome(['invalid', 'response must be an object, got null', null], LIMITS), { outcome: 'invalidResponse', detail: 'invalid response: response must be an object, got null' });
  t.same(resultOutcome(['ok', JSON.stringify({ version: '1.1', headers: {}, message: '' }), null], LIMITS), {
    outcome: 'invalidResponse',
    detail: 'invalid response: response.statuscode is required',
  });
  t.same(resultOutcome(['ok', JSON.stringify({ version: '1.1', statuscode: 200, headers: {}, message: 'z'.repeat(300) }), null], LIMITS), {
    outcome: 'invalidResponse',
    detail: 'invalid response: response is larger than maxResponseBytes (200 bytes)',
  });
});

t.test('a refused source: compile errors with their position, module evaluation failures by cause', async (t) => {
  const isolate = freshIsolate(t);
  const syntax = await isolate.compileModule('export default function (r) {\n  return {;\n}', { filename: 'handler.js' }).then(
    () => null,
    (err: unknown) => err,
  );
  t.equal(sourceErrorText(syntax), "SyntaxError: Unexpected token ';' at line 2, column 11");
  t.equal(sourceErrorText('not an error'), 'Error: not an error');
  const context = await isolate.createContext();
  const evaluate = async (code: string, timeout: number): Promise<unknown> => (await evaluateModule(isolate, context, code, timeout)).err;
  const spin = await evaluate('for (;;) {}', 20);
  t.equal(evaluationErrorText(spin, isolate.isDisposed, 20), 'module evaluation exceeded the time limit (20 ms)');
  const thrown = await evaluate("throw new RangeError('at top level');", 1000);
  t.equal(evaluationErrorText(thrown, isolate.isDisposed, 1000), 'module evaluation failed: RangeError: at top level');
  const grow = await evaluate('const keep = []; for (;;) keep.push({ n: Math.random() });', 20_000);
  t.ok(isolate.isDisposed, 'over the memory limit, isolated-vm disposed the isolate');
  t.equal(evaluationErrorText(grow, isolate.isDisposed, 20_000), 'module evaluation exceeded the memory limit');
});

t.test('an ArrayBuffer allocation refused over the memory limit: `memory`, caught or not', async (t) => {
  const { err, disposed } = await failure(t, '() => new ArrayBuffer(64 * 1024 * 1024)');
  t.match(err, { message: /Array buffer allocation failed/ }, 'the real message (the allocator refused it)');
  t.notOk(disposed, 'the isolate is still there: only the outcome says memory');
  t.same(failureOutcome(err, false, LIMITS), MEMORY, 'thrown across the boundary: memory');
  // Caught by the bootstrap as the handler's exception: the text is the error's message.
  const text = (err as Error).message;
  t.same(resultOutcome(['exception', text, null], LIMITS), { ...MEMORY, stack: text }, 'as a handler exception: memory (what it said for the log only)');
  t.same(resultOutcome(['exception', 'boom', null], LIMITS), { outcome: 'exception', detail: 'handler raised: boom' }, 'another exception stays an exception');
});

t.test('a top-level await that never settles: evaluation resolves, the export read names the cause; the same error thrown by tenant code does not', async (t) => {
  const isolate = freshIsolate(t);
  const context = await isolate.createContext();
  const load = async (code: string): Promise<{ mod: ivm.Module; evaluated: unknown }> => {
    const { mod, err } = await evaluateModule(isolate, context, code, 1000);
    return { mod, evaluated: err };
  };
  const pending = await load('await new Promise(() => {});\nexport const handlerType = "function";');
  t.equal(pending.evaluated, null, 'isolated-vm’s evaluate() resolves at once');
  const read = await pending.mod.namespace.get('handlerType', { copy: true }).then(
    () => null,
    (err: unknown) => err,
  );
  t.match(read, { name: 'ReferenceError' }, 'the binding is uninitialized');
  t.equal(exportReadErrorText(read, false, 1000), UNSETTLED_TEXT);
  t.equal(UNSETTLED_TEXT, 'module evaluation did not finish: a top-level await did not settle');
  const forged = await load("throw new ReferenceError('handlerType is not defined');");
  t.equal(evaluationErrorText(forged.evaluated, false, 1000), 'module evaluation failed: ReferenceError: handlerType is not defined', 'a forged message is the tenant’s own failure');
  t.equal(exportReadErrorText(new Error('Isolate is disposed'), true, 1000), 'module evaluation exceeded the memory limit', 'a disposed isolate is not a pending await');
});
