// Hostile: while one server's requests spin to their timeout, another server on the same worker keeps answering (p99 under 100 ms) (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { contain, hostile } from './helpers.js';

t.test('a spinning neighbour on the same worker', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const c = await contain(svc);
  const spinner = await svc.deploy(hostile('() => { for (;;) {} }'), { timeoutMs: 1000 });
  const quiet = await svc.deploy("export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'quiet' })");
  let spinning = true;
  const spins = Array.from({ length: 2 }, async () => {
    while (spinning)
      await fetch(`http://127.0.0.1:${spinner.port}/spin`).then(
        (r) => r.text(),
        () => '',
      );
  });
  await new Promise((r) => setTimeout(r, 300));
  const latencies: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    const text = await (await fetch(`http://127.0.0.1:${quiet.port}/`)).text();
    latencies.push(performance.now() - t0);
    if (text !== 'quiet') t.fail(`unexpected answer ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  spinning = false;
  await Promise.all(spins);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[98] ?? Infinity;
  t.ok(p99 < 100, `the quiet server's p99 is ${p99.toFixed(1)} ms while its neighbour spins (bound: 100 ms)`);
  const spun = (await svc.api('GET', `/servers/${spinner.httpdid}`)).body.stats.outcomes.timeout as number;
  t.ok(spun >= 2, `the spinner timed out ${spun} times meanwhile`);
  await c.check(t);
});
