// Hostile: Atomics.waitAsync(i32, 0, 0, 1) — which aborted the whole worker on isolated-vm 5 (std::terminate in platform_delegate.h) — is answered and contained; a neighbour on the same worker keeps answering (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile } from './helpers.js';

t.test('Atomics.waitAsync with a timeout', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const neighbour = c.neighbour;
  const { httpdid, port } = await svc.deploy(
    hostile(`async (r) => {
    const a = new Int32Array(new SharedArrayBuffer(4));
    const w = Atomics.waitAsync(a, 0, 0, 1);
    const shape = typeof w.async + ':' + (w.async ? 'promise' : w.value);
    if (r.path === '/await') return { version: '1.1', statuscode: 200, headers: {}, message: shape + ':' + String(await w.value) };
    return { version: '1.1', statuscode: 200, headers: {}, message: shape };
  }`),
    { timeoutMs: 1000 },
  );
  for (const path of ['/sync', '/await', '/sync']) {
    const r = await get(port, path);
    // Answered either way: the call itself returns; a wait that cannot complete in the isolate times out at its limit.
    t.ok(r.status === 200 || r.status === 504 || r.status === 500, `${path}: answered ${r.status} ${r.text.trim()}`);
    t.equal((await get(port, '/ok')).status, 200, `${path}: the server serves after`);
    t.equal((await get(neighbour.port, '/ok')).status, 200, `${path}: the neighbour serves after`);
  }
  const show = await svc.api('GET', `/servers/${httpdid}`);
  t.equal(show.body.stats.workerRestarts, 0, 'its worker never restarted');
  t.equal(show.body.stats.outcomes.crashed, 0, 'nothing crashed');
  t.notMatch(svc.output(), /sandbox worker exited/, 'no worker exit logged');
  await c.check(t);
});
