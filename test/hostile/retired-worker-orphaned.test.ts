// Hostile: a worker that lost an isolate's thread ("Script failed to terminate": isolated-vm suspends that thread for good) and is being retired, when its control process dies (SIGKILL), still exits at once: process.exit() would wait for the lost thread for ever (isolated-vm's thread-pool destructor), holding its memory and the service's stdout (such orphans, reparented to PID 1, were found alive 46 min later).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { until } from '../helpers/until.js';
import { alive, childPids, workersUp } from '../helpers/workers.js';
import { get, hostile } from './helpers.js';

t.test('an orphaned retiring worker exits', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  // A parse V8 cannot interrupt outlasts isolated-vm's 5 s termination wait: "Script failed to terminate", its thread suspended for good.
  const { port } = await svc.deploy(hostile("() => String(BigInt('1'.repeat(3e7)) > 0n)"), { timeoutMs: 200, cpuShareWindowMs: 60000 });
  const parent = svc.proc.pid ?? 0;
  await workersUp(parent, 1);
  const all = childPids(parent);
  t.equal((await get(port, '/x')).status, 504, 'answered 504 at its deadline');
  t.ok(await until(() => /sandbox worker retired \(isolated-vm lost control of an isolate: Script failed to terminate\)/.test(svc.output()), 20_000), 'the worker is retired');
  process.kill(parent, 'SIGKILL');
  t.ok(await until(() => all.every((pid) => !alive(pid)), 5000), `every worker exits once the control process is gone (${all.filter(alive).join(', ') || 'none left'})`);
  for (const pid of all.filter(alive)) process.kill(pid, 'SIGKILL');
});
