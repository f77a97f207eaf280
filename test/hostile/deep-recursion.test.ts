// Hostile: unbounded recursion is a RangeError inside the isolate (500), not a crash; the next request is served (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

t.test('deep recursion', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const port = (await svc.deploy(hostile('function f(n) { return f(n + 1) + 1; }'), undefined, undefined, { exposeErrors: true })).port;
  const r = await get(port, '/recurse');
  t.equal(r.status, 500);
  t.match(r.text, /^handler raised: Maximum call stack size exceeded/);
  t.equal((await get(port, '/ok')).status, 200, 'served after');
  await c.check(t);
});
