// Hostile: a response with a flood of header fields (each one letter, the whole under maxResponseBytes) is refused by count and size in time proportional to what is allowed: an invalid response, the heartbeat never missed, the neighbour keeps answering (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, statsWhen } from './helpers.js';

/**
 * A GET that waits out the server's CPU share cool-down: the flood is the tenant's own work (400,000
 * headers built in its isolate), so on a loaded machine the next request may be refused for a
 * cool-down while the neighbour wants the time; that is the CPU share doing its job, not the response check.
 */
async function getPastCoolDown(port: number, path: string): Promise<{ status: number; text: string }> {
  for (const end = Date.now() + 15_000; ; ) {
    const r = await get(port, path);
    if (r.status !== 503 || !/more than its CPU share/.test(r.text) || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 1000));
  }
}

t.test('response header flood', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => {
      const n = Number(r.path.slice(1)) || 0;
      const headers = {};
      for (let i = 0; i < n; i++) headers['h' + i.toString(36)] = 'v';
      if (r.querydict.big !== undefined) headers['x-big'] = 'v'.repeat(70000);
      return { version: '1.1', statuscode: 200, headers, message: 'flood' };
    }`),
    { timeoutMs: 5000 },
    undefined,
    { exposeErrors: true },
  );
  for (const n of [400000, 50000, 101]) {
    const r = await getPastCoolDown(port, `/${n}`);
    t.equal(r.status, 500, `${n} header fields: an invalid response`);
    t.match(r.text, /more than 100 header fields/, `${n}: says why`);
  }
  const big = await getPastCoolDown(port, '/1?big=1');
  t.equal(big.status, 500, 'one 70 KB field: an invalid response');
  t.match(big.text, /header section is larger than 65536 bytes/, 'says why');
  const ok = await getPastCoolDown(port, '/100');
  t.equal(ok.status, 200, '100 fields are allowed');
  t.equal(ok.text, 'flood');
  await c.check(t);
  const stats = await statsWhen(svc.api, httpdid, (s) => s.outcomes.invalidResponse === 4);
  const show = { body: { stats } };
  t.equal(show.body.stats.outcomes.invalidResponse, 4, 'counted as invalid responses');
  t.equal(show.body.stats.workerRestarts, 0, 'the worker never restarted');
});

t.test('the header limits are per server', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(
    hostile(`(r) => { const headers = {}; for (let i = 0; i < 300; i++) headers['h' + i] = 'v'; return { version: '1.1', statuscode: 200, headers, message: 'ok' }; }`),
    { maxResponseHeaderFields: 500, maxResponseHeaderBytes: 131072 },
  );
  t.equal((await get(port, '/x')).status, 200, 'raised limits allow 300 fields');
});
