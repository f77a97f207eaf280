// A secret change is a hot redeploy: under continuous load through two replicas, no request fails while the value changes five times, and answers move from each value to the next.

import http from 'node:http';
import t from 'tap';
import { getText, loadClients } from './helpers/load-clients.js';
import { freePort, startService } from './helpers/service.js';

const HANDLER = "export default (request, env) => ({ version: '1.1', statuscode: 200, headers: {}, message: env.TOKEN ?? 'none' });";

t.test('secret changes under load: zero failed requests', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const port = await freePort();
  t.equal((await svc.api('POST', '/servers', { name: 'hot', host: '127.0.0.1', port, source: HANDLER, replicas: 2 })).status, 201);
  const load = loadClients(port);
  for (let i = 1; i <= 5; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const r = await svc.api('PUT', '/servers/hot/secrets/TOKEN', { value: `t${i}` });
    t.equal(r.status, 200, `change ${i}`);
    // Both replicas serve the new value once the PUT is answered.
    const agent = new http.Agent({ keepAlive: false });
    const after = await Promise.all(Array.from({ length: 6 }, () => getText(port, agent)));
    t.same([...new Set(after)], [`t${i}`], `after change ${i}, every answer has the new value`);
  }
  const { answers: perClient, failures } = await load.stop();
  const answers = perClient.flat();
  t.same(failures, [], `no request failed (${answers.length} answered)`);
  t.ok(answers.includes('none') && answers.includes('t5'), 'the answers moved from no value to the last');
  t.equal((await svc.api('GET', '/servers/hot')).body.version, 1, 'still version 1');
});
