// Hostile: a handler that reads its body byte by byte from a client that sends slowly: with the body window off (bodyWindowBytes 0, the body streams while the handler runs) it hits its time limit (504), not a hang; with the window (the default), the handler does not start before the body is in, and a body slower than requestTimeoutMs is a 408 the handler never sees; the next request is served (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import net from 'node:net';
import t from 'tap';
import { startService } from '../helpers/service.js';
import { parseResponses } from '../helpers/raw-http.js';
import { contain, get, hostile } from './helpers.js';

for (const [window, expected] of [
  [0, 504],
  [65536, 408],
] as const) {
  t.test(`slow body, byte-by-byte reader, bodyWindowBytes ${window}`, async (t) => {
    const svc = await startService(t, ['--workers', '1']);
    const c = await contain(svc);
    const port = (
      await svc.deploy(hostile(`(r) => { let n = 0; while (r.datastream.read(1).length === 1) n++; return { version: '1.1', statuscode: 200, headers: {}, message: String(n) }; }`), {
        timeoutMs: 500,
        bodyWindowBytes: window,
        requestTimeoutMs: 3000,
      })
    ).port;
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    s.write('POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write('a');
    }, 50);
    await new Promise((r) => s.once('close', r));
    clearInterval(trickle);
    const [r] = parseResponses(Buffer.from(got));
    if (expected === 504) {
      t.equal(r?.status, 504, 'streaming: the time limit covers waiting for body bytes');
      t.match(r?.body.toString(), /^the handler exceeded its time limit \(request id [^)]+\)\n$/);
    } else {
      t.equal(r?.status, 408, "in the window: the body is the connection's to wait for, under requestTimeoutMs");
      t.match(r?.body.toString(), /not received in time/);
    }
    t.equal((await get(port, '/ok')).status, 200, 'served after');
    await c.check(t);
  });
}
