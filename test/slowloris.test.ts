// Hostile: 500 connections trickling header bytes do not stop a normal client from being served; each is closed at its headers timeout.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';

const SLOW = 500;
const HEADERS_TIMEOUT_MS = 1500;

t.test('slowloris', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'fast' })", { headersTimeoutMs: HEADERS_TIMEOUT_MS });
  const replies: Array<Promise<string>> = [];
  const sockets: net.Socket[] = [];
  for (let i = 0; i < SLOW; i++) {
    replies.push(
      new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        sockets.push(s);
        let got = '';
        let timer: NodeJS.Timeout | undefined;
        s.on('connect', () => {
          s.write('GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ');
          // one more header byte every 100 ms, forever
          timer = setInterval(() => {
            if (!s.destroyed) s.write('a');
          }, 100);
        });
        s.on('data', (d) => {
          got += d.toString('latin1');
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          clearInterval(timer);
          resolve(got);
        });
      }),
    );
  }
  t.teardown(() => {
    for (const s of sockets) s.destroy();
  });
  await new Promise((r) => setTimeout(r, 300));

  // While they trickle, a normal client keeps being served, each request within 1 s.
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    t.equal(await res.text(), 'fast', `normal request ${i} served while ${SLOW} connections trickle`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // Each slow connection is answered 408 and closed at its headers timeout (a liveness bound, not a measurement).
  const all = await Promise.race([Promise.all(replies), new Promise<null>((r) => setTimeout(() => r(null), HEADERS_TIMEOUT_MS + 10_000).unref())]);
  t.ok(all !== null, 'every slow connection was closed by the server');
  const timedOut = (all ?? []).filter((r) => r.startsWith('HTTP/1.1 408 ')).length;
  t.equal(timedOut, SLOW, 'each got 408 Request Timeout');
  t.ok(
    (all ?? []).every((r) => /\r\nConnection: close\r\n/.test(r)),
    'with Connection: close',
  );
});
