// Hot redeploy under load: PUTs swap versions with zero refused connections and zero failed requests, answers move forward and never back, an in-flight request finishes on its version.

import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { freePort, startService } from './helpers/service.js';

/** Version `v` of a handler: `/slow` answers with its body (read as it arrives), anything else with the version. */
const handler = (v: number): string => `export default (r) => ({
  version: '1.1', statuscode: 200, headers: {},
  message: r.path === '/slow' ? 'v${v}:' + r.datastream.text() : 'v${v}',
});`;

interface Answer {
  started: number;
  version: number;
}

/** One GET; resolves with the version that answered, rejects on anything but a 200 with a version body. */
function get(port: number, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent, headers: agent === false ? { connection: 'close' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        const m = /^v(\d+)$/.exec(body);
        if (res.statusCode === 200 && m?.[1] !== undefined) resolve(Number(m[1]));
        else reject(new Error(`status ${String(res.statusCode)}: ${body}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('swaps under continuous load', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  // Two replicas: the new version is prepared on both workers before either switches.
  const created = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: handler(1), replicas: 2 });
  t.equal(created.status, 201, 'a server with two replicas');
  const target = { httpdid: created.body.httpdid as number, port: created.body.port as number };

  let stop = false;
  const failures: string[] = [];
  let refused = 0;
  const clients: Answer[][] = [];
  const loop = async (agent: http.Agent | false): Promise<void> => {
    const seen: Answer[] = [];
    clients.push(seen);
    while (!stop) {
      const started = performance.now();
      try {
        seen.push({ started, version: await get(target.port, agent) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') refused++;
        failures.push((err as Error).message);
      }
    }
  };
  const agents = [1, 2, 3].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  // Three keep-alive clients and one that opens a new connection per request.
  const load = Promise.all([...agents.map((a) => loop(a)), loop(false)]);

  const putDone: number[] = [];
  for (let v = 2; v <= 5; v++) {
    await new Promise((r) => setTimeout(r, 300));
    const r = await svc.api('PUT', `/servers/${target.httpdid}`, { source: handler(v) });
    putDone[v] = performance.now();
    t.equal(r.status, 200, `PUT v${v} answered 200`);
    t.equal(r.body.version, v, `version is ${v}`);
  }
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await load;
  for (const a of agents) a.destroy();

  t.equal(refused, 0, 'no connection refused');
  t.same(failures, [], 'no request failed');
  const all = clients.flat();
  t.ok(all.length > 40, `requests were made during the swaps (${all.length})`);
  for (let v = 1; v <= 5; v++)
    t.ok(
      all.some((a) => a.version === v),
      `v${v} answered`,
    );
  clients.forEach((seen, i) => {
    const back = seen.findIndex((a, j) => j > 0 && a.version < (seen[j - 1]?.version ?? 0));
    t.equal(back, -1, `client ${i}: versions never go back`);
  });
  // Once a PUT has answered, every request started after it gets that version or a newer one.
  const stale = all.filter((a) => putDone.some((done, v) => done !== undefined && a.started > done && a.version < v));
  t.same(stale, [], 'no old version after the PUT answered');
  const view = await svc.api('GET', `/servers/${target.httpdid}`);
  t.equal(view.body.version, 5);
  t.equal(view.body.stats.outcomes.crashed, 0, 'nothing crashed');
});

t.test('an in-flight request finishes on the version it started on', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(handler(1), { timeoutMs: 20_000 });
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    got += d;
  });
  const closed = new Promise((r) => sock.once('close', r));
  sock.write('POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  // The 100 is sent when the handler first waits for its body: it is running on v1 now.
  while (!got.includes('100 Continue')) await new Promise((r) => setTimeout(r, 20));
  const put = await svc.api('PUT', `/servers/${httpdid}`, { source: handler(2) });
  t.equal(put.status, 200);
  t.equal(put.body.version, 2);
  const fresh = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(await fresh.text(), 'v2', 'a new request gets v2 while the v1 request is still running');
  sock.end('hello');
  await closed;
  t.match(got, /\r\n\r\nv1:hello$/, 'the request started on v1 is answered by v1');
});
