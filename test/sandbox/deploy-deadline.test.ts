// src/sandbox/isolate-instance.ts instantiate(): the deploy's host deadline (timeoutMs + DEPLOY_MARGIN_MS) holds on its own, when isolated-vm's timeout cannot stop module evaluation (a built-in V8 cannot interrupt, after a top-level await); a spin it can stop is refused at timeoutMs.

import t from 'tap';
import { DEPLOY_MARGIN_MS, instantiate, SourceError } from '../../src/sandbox/isolate-instance.js';

const LIMITS = { memoryMb: 64, timeoutMs: 100, maxResponseBytes: 1 << 20, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536 };
const HOOKS = { onCatastrophicError: (): void => undefined, onConsole: (): void => undefined };

/** What instantiating `source` came to, and how long it took, ms. */
async function deploy(source: string): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const inst = await instantiate(source, LIMITS, HOOKS, async () => null);
    inst.isolate.dispose();
    return { err: null, ms: performance.now() - t0 };
  } catch (err) {
    return { err, ms: performance.now() - t0 };
  }
}

t.test('a spin after a top-level await: isolated-vm’s timeout stops it at timeoutMs', async (t) => {
  const { err, ms } = await deploy('await null;\nfor (;;) {}\nexport default () => ({});');
  t.match(err, { name: 'SourceError', message: `module evaluation exceeded the time limit (${LIMITS.timeoutMs} ms)` });
  t.ok(ms < LIMITS.timeoutMs + DEPLOY_MARGIN_MS, `refused in ${ms.toFixed(0)} ms, before the host deadline`);
});

t.test('a module that evaluates in time is not refused', async (t) => {
  const { err } = await deploy('await null;\nexport default () => ({});');
  t.equal(err, null);
});

// Last: the disposed isolate's thread stays busy with the built-in for seconds after.
t.test('a built-in V8 cannot interrupt, after a top-level await: refused at the host deadline', async (t) => {
  // ~1.3 s of BigInt parsing on these machines (well under isolated-vm's 5 s termination wait, also under load).
  const { err, ms } = await deploy("await null;\nBigInt('1'.repeat(1e7));\nexport default () => ({});");
  t.type(err, SourceError);
  t.match(err, { message: `module evaluation exceeded the time limit (${LIMITS.timeoutMs} ms)` });
  t.ok(ms >= LIMITS.timeoutMs + DEPLOY_MARGIN_MS - 20, `not before the deadline (${ms.toFixed(0)} ms)`);
  // The built-in alone runs seconds: the refusal does not wait for it.
  t.ok(ms < 2000, `refused in ${ms.toFixed(0)} ms (deadline ${LIMITS.timeoutMs} + ${DEPLOY_MARGIN_MS} ms)`);
});
