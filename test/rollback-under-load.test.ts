// A rollback is a hot redeploy: under continuous load through two replicas, no request fails and no connection is refused while it switches, and answers move from the current version to the rolled-back one.

import t from 'tap';
import { loadClients } from './helpers/load-clients.js';
import { freePort, startService } from './helpers/service.js';

const handler = (v: number): string => `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v${v}' });`;

t.test('rollback under load: zero failed requests', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const port = await freePort();
  t.equal((await svc.api('POST', '/servers', { name: 'live', host: '127.0.0.1', port, source: handler(1), replicas: 2 })).status, 201);
  t.equal((await svc.api('PUT', '/servers/live', { source: handler(2) })).body.version, 2);
  const load = loadClients(port);
  await new Promise((r) => setTimeout(r, 300));
  const back = await svc.api('POST', '/servers/live/rollback', {});
  t.equal(back.status, 200, JSON.stringify(back.body));
  t.equal(back.body.version, 3);
  await new Promise((r) => setTimeout(r, 300));
  const { answers: seen, failures } = await load.stop();
  t.same(failures, [], 'no request failed');
  for (const answers of seen) {
    t.ok(answers.length > 0, 'each client was answered');
    const firstV1 = answers.indexOf('v1');
    t.ok(firstV1 === -1 || answers.slice(firstV1).every((a) => a === 'v1'), 'once a client sees the rolled-back version, it never sees the other again');
    t.equal(answers[answers.length - 1], 'v1', 'and ends on it');
  }
});
