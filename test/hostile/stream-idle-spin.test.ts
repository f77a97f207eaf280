// Hostile: while a streamed response waits for a client that does not read, code the handler left behind (a timer callback that spins) runs outside any pull: the idle-CPU watchdog resets the isolate, the stream ends, the server serves on and the neighbour on the same worker keeps answering.

import net from 'node:net';
import t from 'tap';
import { logsMatching } from '../helpers/logs.js';
import { startService } from '../helpers/service.js';
import { get, hostile, watchNeighbour } from './helpers.js';

const TENANT = hostile(`(request) => {
  const chunk = new Uint8Array(65536).fill(115);
  // Not awaited by the stream: it fires between pulls, while the client is not reading.
  setTimeout(() => { for (;;) {} }, 300);
  return { version: '1.1', statuscode: 200, headers: {}, message: (function* () { for (let i = 0; i < 100000; i++) yield chunk; })() };
}`);
const NEIGHBOUR = hostile('() => ({ version: "1.1", statuscode: 200, headers: {}, message: "n" })');

t.test('a spin between pulls of a stalled stream is stopped', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const neighbour = await svc.deploy(NEIGHBOUR);
  const { port, httpdid } = await svc.deploy(TENANT, { timeoutMs: 30000, responseTimeoutMs: 600000, maxResponseBytes: 104857600 });
  await get(neighbour.port, '/ok');
  const watch = watchNeighbour(neighbour.port);

  const sock = net.connect(port, '127.0.0.1');
  const first = new Promise<void>((resolve) => sock.once('data', () => resolve()));
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => undefined);
  sock.write('GET /stall HTTP/1.1\r\nHost: x\r\n\r\n');
  await first;
  sock.pause();

  t.match(await logsMatching(svc, httpdid, /code ran outside a request/, 200), /\[isohttpd\] code ran outside a request for \d+ ms; the isolate was reset/, 'the idle-CPU watchdog reset the isolate');
  sock.resume();
  await closed;
  t.pass('the stalled stream ended with its isolate');
  t.match((await get(port, '/ok')).text, /^ok \d+$/, 'the server serves on');

  const report = await watch.stop();
  t.equal(report.failed, 0, `neighbour: no request failed (${report.count} sent)`);
  t.ok(report.slowestMs < 2000, `neighbour: slowest ${report.slowestMs.toFixed(0)} ms`);
});
