// Back-pressure and abort of a streamed response: a client that stops reading stops the handler's generator (the worker holds a bounded amount, not everything it could make), one that reads on gets it all, and one that goes away closes the generator (its finally runs).

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';

const CHUNK = 65536;
const HANDLER = `let made = 0;
let closed = 0;
export default function handler(request) {
  if (request.path === '/state') return { version: '1.1', statuscode: 200, headers: {}, message: JSON.stringify({ made, closed }) };
  const chunk = new Uint8Array(${CHUNK}).fill(97);
  return {
    version: '1.1', statuscode: 200, headers: {},
    message: (function* () {
      try { for (let i = 0; i < 4096; i++) { made += chunk.length; yield chunk; } } finally { closed++; }
    })(),
  };
}
`;

t.test('back-pressure and abort', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 30000, responseTimeoutMs: 600000, maxResponseBytes: 104857600 });
  const state = async (): Promise<{ made: number; closed: number }> => (await (await fetch(`http://127.0.0.1:${port}/state`)).json()) as { made: number; closed: number };

  // A client that reads nothing after the first bytes.
  const sock = net.connect(port, '127.0.0.1');
  let received = 0;
  const first = new Promise<void>((resolve) => sock.once('data', () => resolve()));
  sock.on('data', (d: Buffer) => {
    received += d.length;
  });
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await first;
  sock.pause();
  // Wait until the generator stops being pulled: the same count twice, 300 ms apart.
  let last = -1;
  let now = (await state()).made;
  for (let i = 0; i < 40 && now !== last; i++) {
    await new Promise((r) => setTimeout(r, 300));
    last = now;
    now = (await state()).made;
  }
  t.equal(now, last, `the generator stopped while the client does not read (at ${now} bytes)`);
  t.ok(now < (4096 * CHUNK) / 4, `it made a bounded part of its 256 MiB (${(now / 1048576).toFixed(1)} MiB: the sockets' buffers and one chunk)`);
  t.equal((await state()).closed, 0, 'not closed: only paused');

  // Reading a little more pulls a little more.
  sock.resume();
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (received > now + 4 * CHUNK) {
        sock.off('data', check);
        resolve();
      }
    };
    sock.on('data', check);
  });
  sock.pause();
  const after = (await state()).made;
  t.ok(after > now, 'reading on pulls on');

  // The client goes away mid-body.
  sock.destroy();
  let s = await state();
  for (let i = 0; i < 50 && s.closed === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    s = await state();
  }
  t.equal(s.closed, 1, "the client's close closed the generator (its finally ran)");
  t.ok(s.made < 4096 * CHUNK, 'before it made everything');
});

t.test('a client that reads everything gets everything', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(HANDLER.replace('i < 4096', 'i < 64'), { timeoutMs: 30000 });
  const r = await fetch(`http://127.0.0.1:${port}/`);
  t.equal((await r.arrayBuffer()).byteLength, 64 * CHUNK, '4 MiB, whole');
  t.same(await (await fetch(`http://127.0.0.1:${port}/state`)).json(), { made: 64 * CHUNK, closed: 1 });
});
