// Hostile: a server whose handler keeps its isolate busy past its CPU share is answered 503 with Retry-After for a cool-down, then served again; a busy server within its share never is (contain(): a neighbour on the same worker answers within 2 s throughout, the workers' peak RSS stays within idle + 4 × memoryMb + 64 MiB).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { exchange, parseResponses } from '../helpers/raw-http.js';
import { contain, get, hostile } from './helpers.js';

async function getWithHeaders(port: number, path: string): Promise<{ status: number; retryAfter: string | undefined; text: string }> {
  const [res] = parseResponses(await exchange(port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, { idleMs: 15_000 }));
  return { status: res?.status ?? 0, retryAfter: res?.headers['retry-after'], text: res?.body.toString() ?? '' };
}

/** Keeps `clients` requests at a time in flight on a server until the returned function is called. */
function keepBusy(port: number, clients: number): () => Promise<number> {
  let going = true;
  let served = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (going) {
      const r = await get(port, '/n').catch(() => ({ status: 0 }));
      if (r.status === 200) served++;
    }
  });
  return async () => {
    going = false;
    await Promise.all(loops);
    return served;
  };
}

t.test('a spinning server is cooled down while its neighbour waits, then recovers', async (t) => {
  // One worker: the spinner and its neighbour share it.
  const svc = await startService(t, ['--workers', '1']);
  // A quiet neighbour besides the busy one: answered within 2 s throughout.
  const c = await contain(svc);
  const neighbour = await svc.deploy("export default () => { const end = Date.now() + 2; while (Date.now() < end) {} return { version: '1.1', statuscode: 200, headers: {}, message: 'n' }; }");
  const stopNeighbour = keepBusy(neighbour.port, 4);
  t.teardown(stopNeighbour);
  // Half a core over 2 s: two 1 s spins in a row are over it.
  const { httpdid, port } = await svc.deploy(hostile('() => { for (;;) {} }'), { timeoutMs: 1000, cpuShareWindowMs: 2000, cpuCooldownMs: 1000 });
  const statuses: number[] = [];
  let refused: { status: number; retryAfter: string | undefined; text: string } | null = null;
  for (let i = 0; i < 8 && refused === null; i++) {
    const r = await getWithHeaders(port, '/spin');
    statuses.push(r.status);
    if (r.status === 503) refused = r;
  }
  t.equal(statuses[0], 504, 'the first spin runs to its time limit');
  t.ok(
    statuses.slice(0, -1).every((s) => s === 504),
    `spins time out until the server is over its share (${statuses.join(', ')})`,
  );
  t.not(refused, null, 'then new requests are refused');
  if (refused === null) return;
  t.match(refused.text, /^this server used more than its CPU share \(50% of a core over 2000 ms\); retry in \d+ s\n$/);
  const retryAfter = Number(refused.retryAfter);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `with Retry-After: ${String(refused.retryAfter)}`);
  const during = await getWithHeaders(port, '/ok');
  t.equal(during.status, 503, 'every request of the server is refused during the cool-down, without entering the isolate');
  t.match(svc.output(), /server over its CPU share/, 'the cool-down is logged');
  t.ok((await stopNeighbour()) > 0, 'the neighbour was served meanwhile');

  await new Promise((r) => setTimeout(r, retryAfter * 1000 + 200));
  const after = await get(port, '/ok');
  t.equal(after.status, 200, 'served again after Retry-After');
  t.equal((await get(port, '/ok')).status, 200, 'and goes on being served');
  // Refusals are not outcomes: the handler never ran. Outcomes: the spins' timeouts and the two oks.
  let outcomes: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    outcomes = (await svc.api('GET', `/servers/${httpdid}`)).body.stats.outcomes as Record<string, number>;
    if (outcomes['ok'] === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.same([outcomes['timeout'], outcomes['ok']], [statuses.length - 1, 2], 'refused requests are not counted as outcomes');
  await c.check(t);
});

t.test('a spinning server alone on its worker is not refused: nobody waits for the time', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { port } = await svc.deploy(hostile('() => { for (;;) {} }'), { timeoutMs: 500, cpuShareWindowMs: 1000, cpuCooldownMs: 1000 });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await getWithHeaders(port, '/spin')).status);
  t.same(statuses, [504, 504, 504, 504, 504], 'every spin runs to its time limit, none is refused');
  t.notMatch(svc.output(), /server over its CPU share/, 'never cooled down');
});

t.test('a busy server within its share is never throttled', async (t) => {
  const svc = await startService(t);
  // Each request keeps the isolate busy 20 ms, then the client waits 40 ms: about a third of a core.
  const { port } = await svc.deploy(hostile("() => { const end = Date.now() + 20; while (Date.now() < end) {} return { version: '1.1', statuscode: 200, headers: {}, message: 'worked' }; }"), {
    cpuShareWindowMs: 1000,
    cpuCooldownMs: 1000,
  });
  const statuses = new Map<number, number>();
  for (let i = 0; i < 80; i++) {
    const r = await get(port, '/work');
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 40));
  }
  t.same([...statuses], [[200, 80]], 'every request answered 200');

  // One long request alone (bounded by its own timeoutMs) is never followed by a cool-down.
  const long = await svc.deploy(hostile("() => { const end = Date.now() + 1500; while (Date.now() < end) {} return { version: '1.1', statuscode: 200, headers: {}, message: 'long' }; }"), {
    timeoutMs: 5000,
    cpuShareWindowMs: 2000,
    cpuCooldownMs: 1000,
  });
  t.equal((await get(long.port, '/long')).status, 200, 'a request over half the window');
  t.equal((await get(long.port, '/ok')).status, 200, 'is not followed by a cool-down');
  t.notMatch(svc.output(), /server over its CPU share/, 'never cooled down');
});

t.test('the CPU share limits are validated', async (t) => {
  const svc = await startService(t);
  for (const limits of [{ cpuShare: 0.9 }, { cpuShare: 0 }, { cpuShareWindowMs: 100 }, { cpuCooldownMs: 60001 }]) {
    const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port: 1, source: 'export default () => ({})', limits });
    t.equal(r.status, 400, `refused: ${JSON.stringify(limits)}`);
    t.match(JSON.stringify(r.body), /body\.limits\.cpu/, 'naming the limit');
  }
});
