// Hostile: one built-in call V8 cannot interrupt (a huge BigInt parse or power) still gets its 504 at the deadline plus a bounded grace; one that outlasts isolated-vm's 5 s termination wait retires its worker without failing a single neighbour request (the neighbours move to a fresh worker first).

import http from 'node:http';
import t from 'tap';
import { startService } from '../helpers/service.js';
import { childPids, workersUp } from '../helpers/workers.js';
import { get, hostile, statsWhen, until, watchNeighbour } from './helpers.js';

t.test('a slow built-in answers at the deadline', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })'));
  const { httpdid, port } = await svc.deploy(
    hostile(`(r) => ({ version: '1.1', statuscode: 200, headers: {}, message: String(r.path === '/parse' ? BigInt('1'.repeat(6e6)) > 0n : 7n ** 30000000n > 0n) })`),
    { timeoutMs: 200 },
  );
  const watch = watchNeighbour(neighbour.port, 50);
  for (const path of ['/parse', '/power']) {
    const t0 = performance.now();
    const r = await get(port, path);
    const ms = performance.now() - t0;
    t.equal(r.status, 504, `${path}: 504`);
    // The built-in alone runs 1–3 s; the answer must not wait for it.
    t.ok(ms < 1000, `${path}: answered in ${ms.toFixed(0)} ms (deadline 200 ms)`);
    // Served once the stuck call returned (a server runs one isolate at a time); should it outlast isolated-vm's
    // 5 s wait (a loaded machine), a request its retired worker had accepted is answered 502 "moving … retry".
    const after = await get(port, '/ok');
    const moving = after.status === 502 && /moving to a fresh sandbox worker/.test(after.text);
    t.ok(after.status === 200 || moving, `${path}: served after (${after.status})`);
    if (moving) t.ok(await until(async () => (await get(port, '/ok')).status === 200, 10_000), `${path}: served by the fresh worker`);
  }
  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent) ${report.failures.join('; ')}`);
  t.ok(report.slowestMs < 2000, `neighbour: every answer within 2 s (slowest ${report.slowestMs.toFixed(0)} ms)`);
  // Stats reach the control process with the worker's heartbeat: wait for one.
  let timeouts = 0;
  for (const end = Date.now() + 5000; Date.now() < end && timeouts !== 2; await new Promise((res) => setTimeout(res, 100))) {
    timeouts = ((await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes.timeout as number) ?? 0;
  }
  t.equal(timeouts, 2, 'counted as timeouts');
});

/** GETs `/ok` over one keep-alive connection pool, `everyMs` apart, until `stop()`: what a browser-like client sees while its worker is retired. */
function watchKeepAlive(port: number, everyMs: number): { stop(): Promise<{ count: number; failures: string[] }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  let running = true;
  let count = 0;
  const failures: string[] = [];
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/ok', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${body.trim()}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        failures.push(err.message);
        resolve();
      });
    });
  const loop = (async () => {
    while (running) {
      await one();
      count++;
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { count, failures };
    },
  };
}

t.test('a built-in that outlasts the termination wait retires its worker, no neighbour request failing', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })'));
  // A parse of 3e7 digits runs far longer than isolated-vm's 5 s wait for a terminated isolate to stop.
  const wedge = await svc.deploy(hostile(`() => ({ version: '1.1', statuscode: 200, headers: {}, message: String(BigInt('1'.repeat(3e7)) > 0n) })`), { timeoutMs: 200 });
  const before = (await workersUp(svc.proc.pid ?? 0, 1)).serving[0] ?? 0;
  t.ok(before > 0, 'found the worker');
  const watch = watchNeighbour(neighbour.port, 50);
  const keepAlive = watchKeepAlive(neighbour.port, 50);
  const t0 = performance.now();
  const r = await get(wedge.port, '/wedge');
  const ms = performance.now() - t0;
  t.equal(r.status, 504, 'the wedged request: 504');
  t.ok(ms < 1000, `at its deadline (${ms.toFixed(0)} ms, timeoutMs 200)`);
  // isolated-vm gives up on the isolate 5 s after its timeout; then the worker is retired.
  let retired = false;
  for (const end = Date.now() + 20_000; Date.now() < end && !retired; await new Promise((res) => setTimeout(res, 100))) {
    retired = /sandbox worker retired/.test(svc.output());
  }
  t.ok(retired, 'the worker was retired');
  let gone = false;
  for (const end = Date.now() + 15_000; Date.now() < end && !gone; await new Promise((res) => setTimeout(res, 100))) {
    gone = !childPids(svc.proc.pid ?? 0).includes(before);
  }
  t.ok(gone, 'the old worker process is gone');
  // Go on a little on the new worker.
  await new Promise((res) => setTimeout(res, 500));
  const report = await watch.stop();
  const ka = await keepAlive.stop();
  t.equal(report.failed, 0, `neighbour (a connection per request): no request failed (${report.count} sent) ${report.failures.join('; ')}`);
  t.ok(report.slowestMs < 2000, `neighbour: every answer within 2 s (slowest ${report.slowestMs.toFixed(0)} ms)`);
  t.same(ka.failures, [], `neighbour (keep-alive): no request failed (${ka.count} sent)`);
  t.equal((await get(wedge.port, '/ok')).status, 200, 'the wedged server is served again, on the new worker');
  const w = await statsWhen(svc.api, wedge.httpdid, (s) => s.workerRestarts === 1 && s.outcomes.timeout === 1);
  t.equal(w.workerRestarts, 1, 'the wedged server is charged with the worker');
  t.equal(w.outcomes.timeout, 1, 'its request counted as a timeout');
  const n = await statsWhen(svc.api, neighbour.httpdid, (s) => s.outcomes.ok >= report.count);
  t.equal(n.workerRestarts, 0, 'the neighbour is not charged');
  t.equal(n.outcomes.crashed, 0, 'the neighbour: nothing crashed');
  const lines = svc
    .output()
    .split('\n')
    .filter((l) => l.includes('sandbox worker retired'));
  t.equal(lines.length, 1, 'the retirement is logged once');
  t.match(lines[0] ?? '', /Script failed to terminate/, 'with its cause');
  t.match(lines[0] ?? '', new RegExp(`"httpdid":${wedge.httpdid}[,}]`), 'and the server to blame');
  t.notMatch(svc.output(), /sandbox worker exited \(/, 'no crash exit logged');
});
