// Hostile: FinalizationRegistry callbacks (which V8 runs as tasks, outside any request) never run tenant code outside a time limit: the API works, the callbacks do not run, the worker stays idle when the server is (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, cpuMs, get, hostile } from './helpers.js';

t.test('finalizers', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { port } = await svc.deploy(
    hostile(
      `(r) => {
      if (r.path === '/garbage') { for (let i = 0; i < 2000; i++) registry.register({ junk: new Array(1000).fill(i) }, i); }
      return { version: '1.1', statuscode: 200, headers: {}, message: 'ran ' + ran + ' ' + registry.unregister(token) + ' ' + String(registry) };
    }`,
      `let ran = 0;
      const token = {};
      // Module level, as the issue's case: each callback would spin 600 ms.
      const registry = new FinalizationRegistry(() => { ran++; const end = Date.now() + 600; while (Date.now() < end); });
      registry.register({ a: 1 }, 'x', token);
      for (let i = 0; i < 2000; i++) registry.register({ junk: new Array(1000).fill(i) }, i);`,
    ),
    { timeoutMs: 200 },
  );
  const worker = c.worker;
  for (let i = 0; i < 5; i++) t.equal((await get(port, '/garbage')).status, 200, `garbage round ${i}: answered`);
  const before = cpuMs(worker);
  await new Promise((res) => setTimeout(res, 1500));
  const idleCpu = cpuMs(worker) - before;
  t.ok(idleCpu < 300, `idle 1.5 s: the worker used ${idleCpu} ms of CPU (callbacks would spin 600 ms each)`);
  const r = await get(port, '/ok');
  t.equal(r.status, 200, 'served after');
  const last = await get(port, '/count');
  t.match(last.text, /^ran 0 /, 'no callback ever ran');
  await c.check(t);
});
