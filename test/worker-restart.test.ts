// A sandbox worker killed with SIGKILL is replaced; its servers answer again and no connection is refused meanwhile.

import t from 'tap';
import { example, startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { workersUp } from './helpers/workers.js';

t.test('SIGKILL on the worker', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(example('hello.js'));
  const pid = svc.proc.pid ?? 0;
  const [worker] = (await workersUp(pid, 1)).serving;
  t.ok(worker !== undefined, 'a worker process runs');
  process.kill(worker ?? 0, 'SIGKILL');
  // Right after the kill: the socket stays bound and listening in the control process, so this
  // connection waits in the backlog and is served by the replacement.
  const during = parseResponses(await exchange(port, 'GET /during HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 }));
  t.equal(during[0]?.status, 200, 'served, not refused');
  t.match(during[0]?.body.toString() ?? '', /You asked for \/during/);
  const after = await workersUp(pid, 1);
  t.equal(after.serving.length, 1, 'one serving worker, and a spare');
  t.not(after.serving[0], worker, 'a new worker');
  t.equal((await svc.api('GET', '/servers')).body.servers.length, 1);
  t.ok(svc.output().includes('sandbox worker exited'), 'the exit is logged');
});
