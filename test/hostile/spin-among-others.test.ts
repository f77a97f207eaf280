// Hostile: one request that spins, arriving together with quick ones for the same server (so likely in one isolate call), times out alone; the others are answered 200 (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import net from 'node:net';
import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain } from './helpers.js';

const HANDLER = `
export default (r) => {
  if (r.path === '/spin') for (;;) {}
  return { version: '1.1', statuscode: 200, headers: {}, message: 'quick ' + r.path };
};`;

/** Opens `n` connections first, then writes one request on each in the same tick, and reads each answer's status line. */
async function together(port: number, paths: string[]): Promise<string[]> {
  const sockets = await Promise.all(
    paths.map(
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const answers = sockets.map(
    (s) =>
      new Promise<string>((resolve) => {
        let data = '';
        s.on('data', (d: Buffer) => {
          data += d.toString('latin1');
        });
        s.on('error', () => resolve(data));
        s.on('close', () => resolve(data));
      }),
  );
  sockets.forEach((s, i) => s.write(`GET ${paths[i] ?? '/'} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  return (await Promise.all(answers)).map((a) => `${a.split('\r\n')[0] ?? ''} ${a.split('\r\n\r\n')[1] ?? ''}`.trim());
}

t.test('a spinning request among quick ones', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 300 });
  // The spinner first, in the middle and last: whatever batch it shares, only it times out.
  for (const paths of [
    ['/spin', '/a', '/b', '/c'],
    ['/a', '/b', '/spin', '/c', '/d'],
    ['/a', '/b', '/spin'],
  ]) {
    const got = await together(port, paths);
    const want = paths.map((p) => (p === '/spin' ? /^HTTP\/1\.1 504 Gateway Timeout the handler exceeded its time limit \(request id [^)]+\)$/ : `HTTP/1.1 200 OK quick ${p}`));
    t.equal(got.length, want.length, paths.join(' '));
    for (const [i, w] of want.entries()) t.match(got[i], w, `${paths.join(' ')}: ${paths[i]}`);
  }
  const next = await fetch(`http://127.0.0.1:${port}/after`);
  t.equal(await next.text(), 'quick /after', 'the server is served afterwards');
  await c.check(t);
});
