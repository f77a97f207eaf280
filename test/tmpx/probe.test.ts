import t from 'tap';
import { startService } from '../helpers/service.js';
import { get, hostile } from '../hostile/helpers.js';
t.test('probe', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => ({ version: '1.1', statuscode: 200, headers: {}, message: String(r.path === '/parse' ? BigInt('1'.repeat(6e6)) > 0n : 7n ** 30000000n > 0n) })`),
    { timeoutMs: 200 },
  );
  for (const path of ['/parse', '/power', '/parse']) {
    const t0 = performance.now();
    const r = await get(port, path);
    t.comment(path, r.status, r.text, (performance.now() - t0).toFixed(0));
    const t1 = performance.now();
    const ok = await get(port, '/ok');
    t.comment('ok', ok.status, ok.text, (performance.now() - t1).toFixed(0));
  }
  await new Promise((r) => setTimeout(r, 1500));
  t.comment(JSON.stringify((await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes));
  t.comment(svc.output().slice(-3000));
});
