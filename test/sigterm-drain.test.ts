// SIGTERM: the service stops accepting, lets a tenant request in flight finish (200), keeps its servers in the registry and exits 0.

import t from 'tap';
import { startService } from './helpers/service.js';

const SLOW = `export default function handler(request) {
  const end = Date.now() + 1000;
  while (Date.now() < end) { /* busy: a request that takes a while */ }
  return { version: '1.1', statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: 'finished ' + request.path };
}
`;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} drains a request in flight`, async (t) => {
    const svc = await startService(t);
    const { port } = await svc.deploy(SLOW, { timeoutMs: 10_000 });
    const pending = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    // Let the request reach the handler (it then busies itself for 1 s), then signal.
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => svc.proc.once('exit', (code, sig) => r([code, sig])));
    svc.proc.kill(signal);
    const answer = await pending;
    t.same(answer, { status: 200, body: 'finished /slow' }, 'the request in flight completes');
    t.same(await exited, [0, null], 'exit 0');
    const after = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.status,
      (err: Error) => err.message,
    );
    t.equal(after, 'fetch failed', 'the port no longer accepts');
  });
}
