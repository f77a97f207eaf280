// The worker pool: replicas on distinct workers, heartbeat supervision, outcome counts, a minimal unprivileged worker.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { example, freePort, startService } from './helpers/service.js';
import { exchange, parseResponses } from './helpers/raw-http.js';
import { until } from './helpers/until.js';
import { childPids, workersUp } from './helpers/workers.js';

t.test('replicas', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const pids = (await workersUp(svc.proc.pid ?? 0, 2)).serving;
  t.equal(pids.length, 2, 'two workers (and a spare)');
  const { httpdid, port } = await svc.deploy(
    `const pid = Math.random();
export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: String(pid) });`,
    undefined,
  );
  t.equal((await svc.api('GET', `/servers/${httpdid}`)).body.replicas, 1);
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
  const two = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source: example('hello.js'), replicas: 2 });
  t.equal(two.status, 201);
  t.equal(two.body.replicas, 2);
  // Kill one worker: the other replica keeps serving, and nothing is refused.
  process.kill(pids[0] ?? 0, 'SIGKILL');
  for (let i = 0; i < 20; i++) {
    const [r] = parseResponses(await exchange(two.body.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 }));
    if (r?.status !== 200) t.fail(`request ${i}: ${String(r?.status)}`);
  }
  t.pass('served throughout');
  const tooMany = await svc.api('POST', '/servers', { host: '127.0.0.1', port: two.body.port + 1, source: example('hello.js'), replicas: 3 });
  t.equal(tooMany.status, 400);
  t.match(tooMany.body.error.message, /body\.replicas must be at most 2/);
});

t.test('a worker that stops answering its heartbeat is replaced', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(example('hello.js'));
  const [pid] = (await workersUp(svc.proc.pid ?? 0, 1)).serving;
  process.kill(pid ?? 0, 'SIGSTOP');
  t.ok(await until(() => !childPids(svc.proc.pid ?? 0).includes(pid ?? 0), 8000), 'the frozen worker is killed');
  const [r] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', { idleMs: 10_000 }));
  t.equal(r?.status, 200, 'served by the replacement');
  t.match(svc.output(), /answered no heartbeat/);
});

t.test('outcome counts per server, crashed included', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(
    `export default (r) => {
    if (r.path === '/throw') throw new Error('x');
    if (r.path === '/hang') return new Promise(() => {});
    return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
  }`,
    { timeoutMs: 30000 },
  );
  await fetch(`http://127.0.0.1:${port}/`);
  await fetch(`http://127.0.0.1:${port}/`);
  await fetch(`http://127.0.0.1:${port}/throw`);
  const hanging = fetch(`http://127.0.0.1:${port}/hang`).then(
    () => 'answered',
    () => 'failed',
  );
  t.ok(await until(async () => (await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes.exception === 1, 3000), 'counts arrive with the heartbeat');
  const [pid] = (await workersUp(svc.proc.pid ?? 0, 1)).serving;
  process.kill(pid ?? 0, 'SIGKILL');
  t.equal(await hanging, 'failed', 'the request in flight on the dead worker fails');
  t.ok(await until(async () => (await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes.crashed === 1, 3000), 'and is counted as crashed');
  const stats = (await svc.api('GET', `/servers/${httpdid}`)).body.stats;
  t.match(stats, { requests: 4, outcomes: { ok: 2, exception: 1, crashed: 1, timeout: 0, memory: 0, invalidResponse: 0 } });
});

t.test('workers get a minimal environment and, under root, an unprivileged user', async (t) => {
  const svc = await startService(t, ['--workers', '1'], { ISOHTTPD_SECRET_TOKEN: 's3cret', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'x' });
  const [pid] = (await workersUp(svc.proc.pid ?? 0, 1)).serving;
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .filter(Boolean)
    .map((kv) => kv.split('=')[0] ?? '');
  t.ok(!env.includes('ISOHTTPD_SECRET_TOKEN') && !env.includes('HOME') && !env.includes('AWS_SECRET_ACCESS_KEY'), "none of the service's variables");
  // PATH and NODE_ENV are passed, MALLOC_MMAP_THRESHOLD_ set (glibc); NODE_CHANNEL_* are Node's IPC; NODE_OPTIONS and _TAPJS_* are injected by tap's process tracking into every process a test starts.
  const own = ['PATH', 'NODE_ENV', 'MALLOC_MMAP_THRESHOLD_', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'NODE_OPTIONS'];
  const unexpected = env.filter((n) => !own.includes(n) && !n.startsWith('_TAPJS_'));
  t.same(unexpected, [], `only PATH, NODE_ENV and MALLOC_MMAP_THRESHOLD_ of its own (${env.join(', ')})`);
  const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (process.getuid?.() === 0) t.not(uid, '0', `started as root, the worker runs as uid ${uid}`);
  else t.equal(uid, String(process.getuid?.()), 'runs as the service user');
});
