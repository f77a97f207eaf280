// Fresh stats: `GET /servers/:id`, `GET /servers` and `/metrics` issued right after a response was received count that response (the workers' counters are read at call time; `statsAgeMs` 0).

import t from 'tap';
import { example, startService } from './helpers/service.js';

t.test('stats count a response received just before the call', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const { httpdid, port } = await svc.deploy(example('hello.js'));
  for (let i = 1; i <= 5; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    await r.text();
    const view = (await svc.api('GET', `/servers/${httpdid}`)).body;
    t.equal(view.stats.requests, i, `GET /servers/:id right after response ${i}`);
    t.equal(view.stats.outcomes.ok, i, 'counted as ok');
    t.ok(view.statsAgeMs <= 5, `statsAgeMs ${view.statsAgeMs}: read for this call`);
  }
  await (await fetch(`http://127.0.0.1:${port}/`)).text();
  const list = (await svc.api('GET', '/servers')).body.servers;
  t.equal(list[0]?.stats.requests, 6, 'GET /servers too');
  await (await fetch(`http://127.0.0.1:${port}/`)).text();
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  t.match(metrics, new RegExp(`isohttpd_requests_total\\{[^}]*httpdid="${httpdid}"[^}]*outcome="ok"[^}]*\\} 7`), '/metrics too');
});
