// Hostile: the worker dies while a compile check runs on it: the check fails with 503 ISO_ERR_API_WORKER_UNAVAILABLE, the exit is logged as any crash saying the check was charged to no server, the worker is replaced and its servers serve again; none is blamed.

import t from 'tap';
import { checkError, checkSpec, startPool } from '../helpers/pool.js';
import { until } from '../helpers/until.js';

// Still evaluating when the worker is killed (its limit is 10 s).
const SPIN = 'for (;;) {}\nexport default () => 1;';
const OK = `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'ok' });`;

async function status(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/`)).status;
  } catch {
    return 0;
  }
}

t.test('a worker that dies during a check', async (t) => {
  const { pool, deploy, lines } = await startPool(t);
  const crashes: number[] = [];
  pool.on('crash', (httpdid: number) => crashes.push(httpdid));
  const port = await deploy(OK, 1);
  const [pid] = await pool.pids();
  const checking = checkError(pool, checkSpec(SPIN, { timeoutMs: 10_000 }));
  await new Promise((r) => setTimeout(r, 300));
  process.kill(pid ?? 0, 'SIGKILL');
  const err = await checking;
  t.equal(err?.code, 'ISO_ERR_API_WORKER_UNAVAILABLE', 'the check fails with the code of a worker gone');
  const exit = lines.find((l) => l.level === 'error' && /sandbox worker exited/.test(l.msg));
  t.match(exit?.msg, /compile check\(s\) were running on it, attributed to no server \(none exists yet\); starting a replacement/, 'the exit is logged, the check charged to no server');
  t.match(exit?.obj, { pid, checks: 1, httpdids: [] });
  t.ok(await until(async () => (await status(port)) === 200, 10_000), "the worker's server serves again, on its replacement");
  t.not((await pool.pids())[0], pid, 'replaced');
  t.same(crashes, [], 'no server is blamed');
  t.equal((await checkError(pool, checkSpec(OK))) ?? 'ok', 'ok', 'the replacement checks sources');
});
