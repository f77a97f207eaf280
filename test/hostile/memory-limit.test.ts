// Hostile: growing memory past memoryMb disposes the isolate (503); a fresh isolate serves the next request.

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile } from './helpers.js';

t.test('memory growth to the limit', async (t) => {
  const svc = await startService(t);
  const port = (await svc.deploy(hostile(`() => { const keep = []; for (;;) keep.push(new Array(100000).fill(Math.random())); }`), { memoryMb: 16, timeoutMs: 10000 })).port;
  const r = await get(port, '/grow');
  t.equal(r.status, 503);
  t.match(r.text, /^handler exceeded its memory limit \(16 MiB\) \(request id [^)]+\)\n$/);
  const ok = await get(port, '/ok');
  t.equal(ok.status, 200, 'served after');
  t.equal(ok.text, 'ok 1', 'by a fresh isolate');
  t.match(svc.output(), /"outcome":"memory"/, 'logged');
});
