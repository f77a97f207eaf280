// Hostile: an unhandled rejection beside a valid response is logged to the tenant's console and affects nothing else: the response is served, the isolate kept, the other requests of its batch answered (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

t.test('unhandled rejection beside a response', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => {
      if (r.path === '/reject') Promise.reject(new Error('nobody catches me'));
      if (r.path === '/reject-async') (async () => { await null; throw new Error('late and uncaught'); })();
      return { version: '1.1', statuscode: 200, headers: {}, message: 'answered' };
    }`),
  );
  for (const path of ['/reject', '/reject-async']) {
    const r = await get(port, path);
    t.equal(r.status, 200, `${path}: the response is served`);
    t.equal(r.text, 'answered');
  }
  const after = await get(port, '/ok');
  t.equal(after.text, 'ok 3', 'the isolate was kept (module state survives)');
  const parallel = await Promise.all([get(port, '/reject'), get(port, '/ok'), get(port, '/reject-async')]);
  t.same(
    parallel.map((r) => r.status),
    [200, 200, 200],
    'requests beside them are answered',
  );
  const logs = await svc.api('GET', `/servers/${httpdid}/logs`);
  const text = JSON.stringify(logs.body);
  t.match(text, /\[isohttpd\] unhandled promise rejection: .*nobody catches me/, 'logged to the tenant console');
  t.match(text, /\[isohttpd\] unhandled promise rejection: .*late and uncaught/, 'the async one too');
  // Stats reach the control process with the worker's heartbeat: wait until all 6 answers are counted.
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.ok >= 6);
  t.equal(stats.outcomes.ok, 6, 'every request counted as ok');
  t.equal(stats.outcomes.crashed, 0, 'nothing counted as crashed');
  await c.check(t);
});
