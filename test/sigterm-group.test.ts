// SIGTERM (or SIGINT) to the whole process group, as systemd's KillMode=control-group and `kill -- -PGID` send it, behaves as SIGTERM to the control process alone: a request in flight is answered, no worker is respawned, exit 0.

import t from 'tap';
import { startService } from './helpers/service.js';

const SLOW = `export default function handler(request) {
  const end = Date.now() + 700;
  while (Date.now() < end) { /* a request that takes a while */ }
  return { version: '1.1', statuscode: 200, headers: {}, message: 'finished ' + request.path };
}
`;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} to the process group drains like ${signal} to the control process`, async (t) => {
    const svc = await startService(t, [], { ISOHTTPD_LOG_LEVEL: 'info' }, { detached: true });
    const { port } = await svc.deploy(SLOW, { timeoutMs: 10_000 });
    const pending = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => svc.proc.once('exit', (code, sig) => r([code, sig])));
    // The negative pid: every process of the group (the control process, its workers, the spare).
    process.kill(-(svc.proc.pid ?? 0), signal);
    const answer = await pending.catch((err: Error) => ({ status: 0, body: err.message }));
    t.same(answer, { status: 200, body: 'finished /slow' }, 'the request in flight is answered');
    t.same(await exited, [0, null], 'exit 0');
    const out = svc.output();
    t.match(out, /"msg":"stopping"/, 'it stopped');
    t.notMatch(out, /sandbox worker (exited|replaced)/, 'no worker died or was respawned');
  });
}
