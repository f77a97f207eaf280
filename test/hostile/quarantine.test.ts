// Hostile: a handler that crashes its worker 3 times within 60 s is moved to a worker of its own; 3 more and it is marked failed. Its neighbour is served throughout (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { isRefused } from '../helpers/raw-http.js';
import { contain, get, hostile } from './helpers.js';

t.test('quarantine, then failed', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const bomb = await svc.deploy(hostile('() => new Array(1e9).fill(0)'), { memoryMb: 64, timeoutMs: 10000 });
  const neighbour = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'neighbour' })");
  const crash = async (): Promise<void> => {
    await fetch(`http://127.0.0.1:${bomb.port}/boom`, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
    // wait until the crashing server answers again (its worker was replaced)
    for (let i = 0; i < 100; i++) {
      const ok = await get(bomb.port, '/ok').catch(() => null);
      if (ok?.status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  for (let i = 0; i < 3; i++) {
    await crash();
    t.equal((await get(neighbour.port, '/')).text, 'neighbour', `neighbour served after crash ${i + 1}`);
  }
  const quarantined = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body;
  t.equal(quarantined.quarantined, true, 'moved to a worker of its own');
  t.equal(quarantined.state, 'running');
  t.equal((await get(bomb.port, '/ok')).status, 200, 'still served from quarantine');
  t.match(svc.output(), /server quarantined on a worker of its own/);

  for (let i = 0; i < 3; i++)
    await fetch(`http://127.0.0.1:${bomb.port}/boom`, { signal: AbortSignal.timeout(15_000) })
      .catch(() => undefined)
      .then(() => new Promise((r) => setTimeout(r, 300)));
  let failed = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body;
  for (let i = 0; i < 50 && failed.state !== 'failed'; i++) {
    await fetch(`http://127.0.0.1:${bomb.port}/boom`, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    failed = (await svc.api('GET', `/servers/${bomb.httpdid}`)).body;
  }
  t.equal(failed.state, 'failed', 'marked failed after crashing its own worker too');
  t.match(failed.reason, /crashed the sandbox worker .* 3 times within 60 s, also on a worker of its own/);
  t.ok(await isRefused(bomb.port), 'a failed server refuses connections');
  t.equal((await get(neighbour.port, '/')).text, 'neighbour', 'the neighbour is still served');
  t.equal((await svc.api('DELETE', `/servers/${bomb.httpdid}`)).status, 204, 'a failed server can be deleted');
  // Each catastrophic OOM retires its worker (the neighbour moved first): no neighbour request fails.
  await c.check(t, { memoryMb: 64 });
});
