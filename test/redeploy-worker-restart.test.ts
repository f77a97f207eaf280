// A worker killed after a PUT comes back hosting the new version (the pool keeps the updated spec), and the server's counters survive.

import t from 'tap';
import { startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { workersUp } from './helpers/workers.js';

const handler = (v: number): string => `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v${v}' });`;

async function answer(port: number): Promise<string> {
  const [r] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 }));
  return `${String(r?.status)} ${r?.body.toString() ?? ''}`;
}

t.test('SIGKILL after a PUT', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(handler(1));
  t.equal(await answer(port), '200 v1');
  const put = await svc.api('PUT', `/servers/${httpdid}`, { source: handler(2), limits: { timeoutMs: 3000 } });
  t.equal(put.status, 200);
  t.equal(await answer(port), '200 v2');
  const pid = svc.proc.pid ?? 0;
  const [worker] = (await workersUp(pid, 1)).serving;
  process.kill(worker ?? 0, 'SIGKILL');
  // Served by the replacement worker (the connection waits in the backlog meanwhile).
  t.equal(await answer(port), '200 v2', 'the replacement hosts v2');
  t.not((await workersUp(pid, 1)).serving[0], worker, 'a new worker');
  const view = await svc.api('GET', `/servers/${httpdid}`);
  t.equal(view.body.version, 2);
  t.equal(view.body.limits.timeoutMs, 3000, 'with the new limits');
  t.equal(view.body.stats.workerRestarts, 0, 'idle when its worker died: not charged');
});
