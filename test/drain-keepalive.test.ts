// A draining worker (SIGTERM, or a retirement) winds its keep-alive connections down: an idle one is closed at once (a clean FIN, no bytes), a busy one gets its response with `Connection: close`, then closes; one accepted whose first request has not come yet gets it answered (within 1 s), then closes.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';

const SLOW = `export default function handler(request) {
  if (request.path === '/slow') { const end = Date.now() + 800; while (Date.now() < end); }
  return { version: '1.1', statuscode: 200, headers: {}, message: 'done ' + request.path };
}
`;

/** An open connection: what it received so far, and when the server ended it. */
function connect(port: number): Promise<{ socket: net.Socket; received: () => string; ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      data += c;
    });
    const ended = new Promise<string>((res) => socket.once('end', () => res(data)));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => data, ended }));
  });
}

t.test('SIGTERM closes idle keep-alive connections and ends busy ones after their response', async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy(SLOW, { timeoutMs: 10_000 });
  const idle = await connect(port);
  idle.socket.write('GET /first HTTP/1.1\r\nHost: h\r\n\r\n');
  for (let i = 0; i < 100 && !idle.received().includes('done /first'); i++) await new Promise((r) => setTimeout(r, 20));
  t.match(idle.received(), /^HTTP\/1\.1 200 OK\r\n/, 'the first response on the idle connection');
  t.notMatch(idle.received(), /Connection: close/i, 'kept alive');
  const busy = await connect(port);
  busy.socket.write('GET /slow HTTP/1.1\r\nHost: h\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  // Accepted, no request yet (its client is slow to send it): it must not be closed under it.
  const fresh = await connect(port);
  await new Promise((r) => setTimeout(r, 100));
  const before = idle.received();
  svc.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  fresh.socket.write('GET /late HTTP/1.1\r\nHost: h\r\n\r\n');
  const idleEnd = await idle.ended;
  t.equal(idleEnd, before, 'the idle connection was closed with nothing more sent');
  const busyEnd = await busy.ended;
  t.match(busyEnd, /^HTTP\/1\.1 200 OK\r\n/, 'the busy connection got its response');
  t.match(busyEnd, /\r\nConnection: close\r\n/i, 'with Connection: close');
  t.match(busyEnd, /done \/slow$/, 'whole');
  const freshEnd = await fresh.ended;
  t.match(freshEnd, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\nConnection: close\r\n[\s\S]*done \/late$/, 'a connection accepted before the drain gets its first request answered, then closes');
  fresh.socket.destroy();
  idle.socket.destroy();
  busy.socket.destroy();
});
