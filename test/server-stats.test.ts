// GET /servers/:httpdid stats: requests, latency percentiles, exact bytes in/out, isolate heap, worker restarts; totals survive a worker restart.

import t from 'tap';
import { freePort, startService, type Service } from './helpers/service.js';
import { exchange } from './helpers/raw-http.js';
import { workersUp } from './helpers/workers.js';

const HANDLER = "export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'got ' + r.datastream.read().length })";

async function statsWhen(svc: Service, httpdid: number, cond: (s: any) => boolean): Promise<any> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats;
    if (cond(s) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('stats of one server', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(HANDLER);
  const fresh = (await svc.api('GET', `/servers/${httpdid}`)).body.stats;
  t.same(fresh.latencyMs, { p50: null, p99: null }, 'no latency before the first request');
  t.equal(fresh.bytesIn, 0);
  t.equal(fresh.workerRestarts, 0);

  let sent = 0;
  let received = 0;
  const requests = 12;
  for (let i = 0; i < requests; i++) {
    const body = 'x'.repeat(i * 100);
    const req = `POST /n${i} HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    sent += Buffer.byteLength(req);
    const reply = await exchange(port, req, { idleMs: 10_000 });
    t.match(reply.toString('latin1'), new RegExp(`^HTTP/1.1 200 [^]*got ${i * 100}$`));
    received += reply.length;
  }
  const s = await statsWhen(svc, httpdid, (x) => x.requests === requests && x.bytesIn >= sent && x.bytesOut >= received && x.heapUsedBytes > 0);
  t.equal(s.requests, requests);
  t.equal(s.outcomes.ok, requests);
  t.equal(s.bytesIn, sent, 'bytes in: every byte the client sent');
  t.equal(s.bytesOut, received, 'bytes out: every byte the client received');
  t.ok(s.heapUsedBytes > 0, `isolate heap sampled (${s.heapUsedBytes} bytes)`);
  t.ok(s.heapUsedBytes < 64 * 1024 * 1024, 'within the memoryMb limit');
  t.type(s.latencyMs.p50, 'number');
  t.ok(s.latencyMs.p50 > 0 && s.latencyMs.p50 <= s.latencyMs.p99, `0 < p50 (${s.latencyMs.p50}) <= p99 (${s.latencyMs.p99})`);

  // Totals survive a worker restart; the server was idle when its worker died, so it is not charged.
  const [worker] = (await workersUp(svc.proc.pid ?? 0, 1)).serving;
  process.kill(worker ?? 0, 'SIGKILL');
  const end = Date.now() + 10_000;
  while (Date.now() < end && (await workersUp(svc.proc.pid ?? 0, 1)).serving[0] === worker) await new Promise((r) => setTimeout(r, 50));
  const after = await statsWhen(svc, httpdid, (x) => x.heapUsedBytes > 0);
  t.equal(after.workerRestarts, 0, 'an idle server is not charged with the restart');
  t.equal(after.requests, requests, 'requests kept');
  t.equal(after.bytesIn, sent, 'bytes in kept');
  t.equal(after.bytesOut, received, 'bytes out kept');
  t.same(after.latencyMs, s.latencyMs, 'latency histogram kept');
  t.ok(after.heapUsedBytes > 0, 'heap of the new isolate');
});

t.test('summed over replicas', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const single = await svc.deploy(HANDLER);
  const port = await freePort();
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: HANDLER, replicas: 2 });
  t.equal(created.status, 201);
  const one = await statsWhen(svc, single.httpdid, (x) => x.heapUsedBytes > 0);
  const two = await statsWhen(svc, created.body.httpdid, (x) => x.heapUsedBytes > one.heapUsedBytes);
  t.ok(two.heapUsedBytes > one.heapUsedBytes, `two isolates (${two.heapUsedBytes} bytes) use more than one (${one.heapUsedBytes})`);
  for (let i = 0; i < 10; i++) await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 });
  const s = await statsWhen(svc, created.body.httpdid, (x) => x.requests === 10);
  t.equal(s.requests, 10, 'requests of both replicas');
});
