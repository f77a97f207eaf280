// Every worker exit is logged with its cause: a spare worker killed while it waits to be taken (logged, and another started), and the workers stopped as the service stops (SIGTERM).

import t from 'tap';
import { startService } from './helpers/service.js';
import { until } from './helpers/until.js';
import { childPids, workersUp } from './helpers/workers.js';

t.test('the exits of a spare and of the workers at a stop are logged', async (t) => {
  const svc = await startService(t, ['--workers', '1'], { ISOHTTPD_LOG_LEVEL: 'info' });
  const parent = svc.proc.pid ?? 0;
  const { serving, spare } = await workersUp(parent, 1);
  t.ok(spare !== undefined && !serving.includes(spare), 'found the spare');
  process.kill(spare ?? 0, 'SIGKILL');
  // Killed once ready, or while it still starts: either way logged with its cause, and another started.
  const logged = (): boolean =>
    new RegExp(`"pid":${spare}[^\\n]*spare sandbox worker exited \\(signal SIGKILL\\); starting another`).test(svc.output()) ||
    /spare sandbox worker failed to start; starting another/.test(svc.output());
  t.ok(await until(logged, 10_000), 'its exit is logged with its cause');
  t.ok(await until(() => childPids(parent).length === 2 && !childPids(parent).includes(spare ?? 0), 10_000), 'another spare started');
  t.equal((await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'up' })")).httpdid > 0, true, 'the service serves on');
  const [worker] = serving;
  await svc.stop();
  t.match(svc.output(), new RegExp(`"pid":${worker}[^\\n]*sandbox worker stopped \\((signal SIGKILL|exit code \\d+)\\) as the service stops`), "the serving worker's exit at the stop is logged");
});
