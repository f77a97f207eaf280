// src/sandbox/idle-watchdog.ts with real isolates: a V8 task queued by tenant code (a wasm compilation's callback, in a raw isolate without the guest's synchronous compile), run outside every call's time limit, is stopped and reported, its CPU time charged; a window's CPU time and an idle isolate's GC are not.

import ivm from 'isolated-vm';
import t, { type Test } from 'tap';
import { IDLE_CPU_BUDGET_MS } from '../../src/core/supervision.js';
import { IdleWatchdog } from '../../src/sandbox/idle-watchdog.js';
import type { IsolateInstance } from '../../src/sandbox/isolate-instance.js';
import { IsolateReplacement } from '../../src/sandbox/replacement.js';

const EMPTY_MODULE = '[0,97,115,109,1,0,0,0]';
/** Queues a spin behind a wasm compilation: V8 runs its callback as a task, at the host's next entry into the isolate. */
const QUEUE_SPIN = `WebAssembly.compile(new Uint8Array(${EMPTY_MODULE})).then(() => { for (;;) {} }); 1`;

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** A raw isolated-vm isolate (no guest prelude), disposed when the test ends. */
async function raw(t: Test): Promise<{ isolate: ivm.Isolate; context: ivm.Context }> {
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  t.teardown(() => {
    if (!isolate.isDisposed) isolate.dispose();
  });
  return { isolate, context: await isolate.createContext() };
}

/** An instance of a raw isolate with real References where a sandbox has the bootstrap's entry points (only `isolate` is read here). */
async function instanceOf(isolate: ivm.Isolate, context: ivm.Context): Promise<IsolateInstance> {
  const fn = async (): Promise<ivm.Reference<never>> => (await context.eval('(function () { return null; })', { reference: true })) as ivm.Reference<never>;
  return { isolate, dispatchBatch: await fn(), awaitResult: await fn(), salvage: await fn(), takeLast: await fn(), takeSettled: await fn(), streamOp: await fn() };
}

/**
 * Enters the isolate the way the worker's heap sample does, every 50 ms until `done` settles (the
 * wasm compilation finishes on a background thread; its callback runs at the first entry after).
 */
async function sampleUntil(isolate: ivm.Isolate, done: Promise<unknown>): Promise<number> {
  let settled = false;
  void done.then(() => {
    settled = true;
  });
  const t0 = performance.now();
  while (!settled && !isolate.isDisposed && performance.now() - t0 < 5000) {
    isolate.getHeapStatistics().catch(() => undefined);
    await sleep(50);
  }
  return t0;
}

/** Resolves with what `onIdleRun` got, or null after `ms`. */
function reportWithin<T>(ms: number): { onIdleRun: (inst: T, idleMs: number) => void; report: Promise<{ inst: T; idleMs: number; at: number } | null> } {
  let onIdleRun: (inst: T, idleMs: number) => void = () => undefined;
  const report = new Promise<{ inst: T; idleMs: number; at: number } | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    onIdleRun = (inst, idleMs) => {
      clearTimeout(timer);
      resolve({ inst, idleMs, at: performance.now() });
    };
  });
  return { onIdleRun: (inst, idleMs) => onIdleRun(inst, idleMs), report };
}

/** An IdleWatchdog over one raw isolate's instance, closed when the test ends. */
function watchOne<T extends { isolate: ivm.Isolate }>(t: Test, inst: T, busy: () => boolean, onIdleRun: (inst: T, idleMs: number) => void): IdleWatchdog<T> {
  const dog = new IdleWatchdog<T>({ instances: () => [inst], busy }, onIdleRun);
  t.teardown(() => dog.close());
  return dog;
}

/**
 * A raw isolate's instance served through an IsolateReplacement (each instance it makes is a raw
 * isolate, `prepare`d first with its index among those made), watched by an IdleWatchdog that replaces
 * the instance it reports; `report` resolves with the first report (null after 5 s).
 */
async function watchedReplacement(
  t: Test,
  prepare: (context: ivm.Context, index: number) => Promise<void> = async () => undefined,
): Promise<{
  first: IsolateInstance;
  firstIsolate: ivm.Isolate;
  firstContext: ivm.Context;
  made: IsolateInstance[];
  isolates: IsolateReplacement;
  report: Promise<{ inst: IsolateInstance; idleMs: number; at: number } | null>;
}> {
  const a = await raw(t);
  const first = await instanceOf(a.isolate, a.context);
  const made: IsolateInstance[] = [];
  const isolates = new IsolateReplacement(first, async () => {
    const { isolate, context } = await raw(t);
    const inst = await instanceOf(isolate, context);
    await prepare(context, made.length);
    made.push(inst);
    return inst;
  });
  t.teardown(() => isolates.close());
  const { onIdleRun, report } = reportWithin<IsolateInstance>(5000);
  const dog = new IdleWatchdog<IsolateInstance>({ instances: () => isolates.instances, busy: () => false }, (inst, idleMs) => {
    isolates.replace(inst);
    onIdleRun(inst, idleMs);
  });
  t.teardown(() => dog.close());
  return { first, firstIsolate: a.isolate, firstContext: a.context, made, isolates, report };
}

t.test('a task queued by tenant code, run outside every call (on its own or at a heap sample), is stopped and reported', async (t) => {
  const { isolate, context } = await raw(t);
  const inst = { isolate };
  const { onIdleRun, report } = reportWithin<typeof inst>(5000);
  watchOne(
    t,
    inst,
    () => false,
    (i, idleMs) => {
      i.isolate.dispose();
      onIdleRun(i, idleMs);
    },
  );
  await context.eval(QUEUE_SPIN, { timeout: 200 });
  // The callback runs when the compilation ends if the isolate is still entered then, else at the
  // next entry: the heap sample's.
  const t0 = await sampleUntil(isolate, report);
  const r = await report;
  t.not(r, null, 'the watchdog reported the spin');
  if (r === null) return;
  const ms = r.at - t0;
  t.comment(`reported ${ms.toFixed(0)} ms after the spin was queued, ${r.idleMs} ms of idle CPU`);
  // The spin never ends on its own: a bound far below the 5 s the test waits separates the two.
  t.ok(ms < 1000, `within ${ms.toFixed(0)} ms`);
  t.ok(r.idleMs > IDLE_CPU_BUDGET_MS, `idle CPU over the budget (${r.idleMs} ms)`);
  t.equal(r.inst, inst, 'the instance that ran');
  t.ok(isolate.isDisposed, 'disposed (the spin is stopped)');
});

t.test('CPU time inside a window is the request’s; after it closes, nothing is counted', async (t) => {
  const { isolate, context } = await raw(t);
  const inst = { isolate };
  let busy = true;
  const { onIdleRun, report } = reportWithin<typeof inst>(900);
  const dog = watchOne(t, inst, () => busy, onIdleRun);
  // 400 ms on the CPU in a call, while a window is open.
  await context.eval('{ const end = Date.now() + 400; while (Date.now() < end); }', { timeout: 2000 });
  busy = false;
  dog.windowClosed(inst);
  t.equal(await report, null, 'no report for a window’s CPU time, nor for an idle isolate');
});

t.test('an idle isolate’s heap samples (GC steps included) stay under the budget', async (t) => {
  const { isolate, context } = await raw(t);
  await context.eval('globalThis.keep = []; for (let i = 0; i < 2e5; i++) keep.push({ i, s: "x" + i }); keep.length = 1e5; 1', { timeout: 5000 });
  const inst = { isolate };
  const { onIdleRun, report } = reportWithin<typeof inst>(1500);
  watchOne(t, inst, () => false, onIdleRun);
  const end = performance.now() + 1200;
  while (performance.now() < end) {
    await isolate.getHeapStatistics();
    await sleep(20);
  }
  t.equal(await report, null, 'no report');
  t.notOk(isolate.isDisposed);
});

t.test('the idle run goes on the CPU time of the replaced isolate: busyNs keeps it after the dispose', async (t) => {
  const { first, firstIsolate, firstContext, made, isolates, report } = await watchedReplacement(t);
  const before = isolates.busyNs;
  await firstContext.eval(QUEUE_SPIN, { timeout: 200 });
  await sampleUntil(firstIsolate, report);
  const r = await report;
  t.not(r, null, 'reported');
  if (r === null) return;
  t.equal(r.inst, first);
  t.ok(firstIsolate.isDisposed, 'the isolate that ran was disposed');
  const next = await isolates.current;
  t.equal(next, made[0], 'the replacement serves');
  await sleep(10);
  t.equal(isolates.live, next, 'and is the live instance the watchdog watches now');
  const chargedMs = Number(isolates.busyNs - before) / 1e6;
  t.ok(chargedMs >= r.idleMs, `charged ${chargedMs.toFixed(0)} ms of CPU (idle run ${r.idleMs} ms)`);
  t.not(await isolates.heapUsed(), null, 'the replacement can be sampled');
});

t.test('a standby that runs code while it waits is replaced by a new standby, its CPU time charged', async (t) => {
  // The second one made is the standby: its last call queued a spin.
  const { first, made, isolates, report } = await watchedReplacement(t, async (context, index) => {
    if (index === 1) await context.eval(QUEUE_SPIN, { timeout: 200 });
  });
  // A fatal outcome on the first: the replacement serves, a standby is made.
  isolates.replace(first);
  await sleep(0);
  const serving = await isolates.current;
  t.equal(serving, made[0], 'the replacement serves');
  while (made.length < 2) await sleep(10);
  const standby = made[1] as IsolateInstance;
  const before = isolates.busyNs;
  await sampleUntil(standby.isolate, report);
  const r = await report;
  t.not(r, null, 'reported');
  if (r === null) return;
  t.equal(r.inst, standby, 'the standby');
  t.ok(standby.isolate.isDisposed, 'disposed');
  t.notOk(serving.isolate.isDisposed, 'the serving isolate is untouched');
  t.equal(await isolates.current, serving, 'and still serves');
  while (made.length < 3) await sleep(10);
  await sleep(10);
  t.ok(isolates.instances.includes(made[2] as IsolateInstance), 'a new standby is ready');
  const chargedMs = Number(isolates.busyNs - before) / 1e6;
  t.ok(chargedMs >= r.idleMs, `charged ${chargedMs.toFixed(0)} ms of CPU (idle run ${r.idleMs} ms)`);
});
