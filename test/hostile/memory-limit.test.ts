// Hostile: growing memory past memoryMb disposes the isolate (503); a fresh isolate serves the next request (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

t.test('memory growth to the limit', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (await svc.deploy(hostile(`() => { const keep = []; for (;;) keep.push(new Array(100000).fill(Math.random())); }`), { memoryMb: 16, timeoutMs: 10000 })).port;
  const r = await get(port, '/grow');
  t.equal(r.status, 503);
  t.match(r.text, /^handler exceeded its memory limit \(16 MiB\) \(request id [^)]+\)\n$/);
  const ok = await get(port, '/ok');
  t.equal(ok.status, 200, 'served after');
  t.equal(ok.text, 'ok 1', 'by a fresh isolate');
  t.match(svc.output(), /"outcome":"memory"/, 'logged');
  await c.check(t, { memoryMb: 16 });
});
