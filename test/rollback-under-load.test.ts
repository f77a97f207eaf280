// A rollback is a hot redeploy: under continuous load through two replicas, no request fails and no connection is refused while it switches, and answers move from the current version to the rolled-back one.

import http from 'node:http';
import t from 'tap';
import { freePort, startService } from './helpers/service.js';

const handler = (v: number): string => `export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'v${v}' });`;

function get(port: number, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${String(res.statusCode)}: ${body}`))));
    });
    req.on('error', reject);
  });
}

t.test('rollback under load: zero failed requests', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const port = await freePort();
  t.equal((await svc.api('POST', '/servers', { name: 'live', host: '127.0.0.1', port, source: handler(1), replicas: 2 })).status, 201);
  t.equal((await svc.api('PUT', '/servers/live', { source: handler(2) })).body.version, 2);
  let stop = false;
  const failures: string[] = [];
  const seen: string[][] = [];
  const clients = Array.from({ length: 4 }, async (_, i) => {
    const agent = new http.Agent({ keepAlive: i % 2 === 0, maxSockets: 1 });
    const answers: string[] = [];
    seen.push(answers);
    while (!stop) {
      try {
        answers.push(await get(port, agent));
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    agent.destroy();
  });
  await new Promise((r) => setTimeout(r, 300));
  const back = await svc.api('POST', '/servers/live/rollback', {});
  t.equal(back.status, 200, JSON.stringify(back.body));
  t.equal(back.body.version, 3);
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(clients);
  t.same(failures, [], 'no request failed');
  for (const answers of seen) {
    t.ok(answers.length > 0, 'each client was answered');
    const firstV1 = answers.indexOf('v1');
    t.ok(firstV1 === -1 || answers.slice(firstV1).every((a) => a === 'v1'), 'once a client sees the rolled-back version, it never sees the other again');
    t.equal(answers[answers.length - 1], 'v1', 'and ends on it');
  }
});
