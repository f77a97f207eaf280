// Hostile: Atomics.wait on a SharedArrayBuffer and a WebAssembly infinite loop both end in 504; the next request is served (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

// (module (func (export "spin") (loop (br 0))))
const WASM_SPIN = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 8, 1, 4, 115, 112, 105, 110, 0, 0, 10, 9, 1, 7, 0, 3, 64, 12, 0, 11, 11];

t.test('Atomics.wait and WebAssembly loops', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (
    await svc.deploy(
      hostile(`(r) => {
    if (r.path === '/atomics') { const a = new Int32Array(new SharedArrayBuffer(4)); Atomics.wait(a, 0, 0); }
    if (r.path === '/wasm') { const m = new WebAssembly.Module(new Uint8Array(${JSON.stringify(WASM_SPIN)})); new WebAssembly.Instance(m).exports.spin(); }
    return { version: '1.1', statuscode: 200, headers: {}, message: 'returned' };
  }`),
      { timeoutMs: 300 },
      undefined,
      { exposeErrors: true },
    )
  ).port;
  for (const path of ['/atomics', '/wasm']) {
    const r = await get(port, path);
    // No SharedArrayBuffer at all (the containment removes it), so Atomics.wait has nothing to wait on.
    t.ok(r.status === 504 || (r.status === 500 && /Atomics\.wait cannot be called|SharedArrayBuffer is not defined/.test(r.text)), `${path}: ${r.status} ${r.text.trim()}`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: served after`);
  }
  await c.check(t);
});
