// Hostile: crash blame stays exact after keep-alive load, where the worker tells the control process only the servers whose running state changed (src/host/worker/main.ts flushRunning): a server that served thousands of requests and went idle is not charged, the one whose request runs when the worker dies is.

import http from 'node:http';
import t from 'tap';
import { HEARTBEAT_DEAD_MS } from '../../src/core/supervision.js';
import { startService } from '../helpers/service.js';
import { contain, get, hostile, until } from './helpers.js';

/** Keeps `connections` keep-alive connections busy with GET /ok on `port` for `ms`; resolves with the number of 200s. */
async function load(port: number, connections: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const end = Date.now() + ms;
  let ok = 0;
  const one = (): Promise<number> =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/ok', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) if ((await one()) === 200) ok++;
    }),
  );
  agent.destroy();
  return ok;
}

t.test('after keep-alive load on two servers, a crash is charged to the one whose request was running', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  // A quiet neighbour besides the loaded one, watched throughout.
  const watched = await contain(svc);
  const neighbour = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })'));
  const culprit = await svc.deploy(hostile(`() => { const end = Date.now() + 3000; while (Date.now() < end); return { version: '1.1', statuscode: 200, headers: {}, message: 'slow' }; }`), {
    timeoutMs: 10000,
  });
  const worker = watched.worker;
  t.ok(worker > 0, 'found the worker');
  // Both servers go from idle to running and back many times, across several heartbeats.
  const [n, c] = await Promise.all([load(neighbour.port, 8, 1000), load(culprit.port, 8, 1000)]);
  t.ok(n > 0 && c > 0, `both served under load (${n} and ${c} requests)`);
  // The culprit's request spins while the neighbour is loaded on; the worker dies soon after the
  // neighbour's last answer, mostly before the next heartbeat: only its `running` message said it was idle.
  // Lost either way: closed without an answer, or reset.
  const pending = get(culprit.port, '/spin').catch(() => ({ status: 0, text: '' }));
  t.ok((await load(neighbour.port, 8, 1000)) > 0, 'the neighbour served while the culprit spun');
  await new Promise((res) => setTimeout(res, 50));
  // Between two of the contain() watcher's requests (its own neighbour must not be running either).
  await watched.quiet(() => process.kill(worker, 'SIGKILL'));
  t.equal((await pending).status, 0, 'the running request lost its connection');
  t.ok(await until(async () => (await get(neighbour.port, '/ok')).status === 200, 10_000), 'the slot was replaced and the neighbour serves again');
  const cs = (await svc.api('GET', `/servers/${culprit.httpdid}`)).body.stats;
  const ns = (await svc.api('GET', `/servers/${neighbour.httpdid}`)).body.stats;
  t.equal(cs.workerRestarts, 1, 'the culprit: charged with the restart');
  t.equal(cs.outcomes.crashed, 1, 'the culprit: its running request counted as crashed');
  t.equal(ns.workerRestarts, 0, 'the neighbour, idle since its load ended: not charged');
  t.equal(ns.outcomes.crashed, 0, 'the neighbour: nothing crashed');
  // Its worker killed under it (the kill is the test's): back within the heartbeat window plus 2 s.
  await watched.check(t, { workerKilled: true, gapMs: HEARTBEAT_DEAD_MS + 2000 });
});
