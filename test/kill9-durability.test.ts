// Durability under SIGKILL: create/delete servers concurrently, kill -9 at seeded random moments, restart on the same data dir: exactly the acknowledged, undeleted servers come back.

import { rmSync } from 'node:fs';
import t from 'tap';
import { example, freePort, startService, tempDataDir, type Service } from './helpers/service.js';

/** mulberry32: a small seeded RNG, so a failing run can be replayed (the seed is printed). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env['ISOHTTPD_KILL9_SEED'] ?? 20261130);
const ITERATIONS = 4;

t.test(`kill -9 loop (seed ${SEED})`, async (t) => {
  const random = rng(SEED);
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const hello = example('hello.js');
  /** What the service must hold: httpdid → port, for every acknowledged creation not deleted with an acknowledgement. */
  const known = new Map<number, number>();
  const everSeen = new Set<number>();

  // Requests unanswered at the last kill may have been committed or not: the next start tells which.
  let uncertainCreates = new Set<number>(); // ports
  let uncertainDeletes = new Set<number>(); // httpdids

  for (let iteration = 0; iteration <= ITERATIONS; iteration++) {
    const svc: Service = await startService(t, ['--workers', '1'], {}, { dataDir });

    // 1. After the restart: exactly the acknowledged, undeleted servers (plus or minus the unanswered ones), each answering on its port.
    const listed = (await svc.api('GET', '/servers')).body.servers as Array<{ httpdid: number; port: number; state: string }>;
    for (const id of uncertainDeletes) if (!listed.some((s) => s.httpdid === id)) known.delete(id);
    for (const s of listed) {
      if (known.has(s.httpdid)) continue;
      t.ok(uncertainCreates.has(s.port), `unacknowledged server ${s.httpdid} came from a creation unanswered at the kill (port ${s.port})`);
      t.notOk(everSeen.has(s.httpdid), `httpdid ${s.httpdid} is new`);
      everSeen.add(s.httpdid);
      known.set(s.httpdid, s.port);
    }
    t.same(new Map(listed.map((s) => [s.httpdid, s.port])), known, `start ${iteration}: exactly the acknowledged, undeleted servers`);
    for (const s of listed) {
      t.equal(s.state, 'running', `server ${s.httpdid} running`);
      const res = await fetch(`http://127.0.0.1:${s.port}/`);
      t.equal(res.status, 200, `server ${s.httpdid} answers on ${s.port}`);
      await res.text();
    }
    if (iteration === ITERATIONS) break;

    // 2. Concurrent creations and deletions, SIGKILL at a random moment.
    const inFlightCreates = new Set<number>(); // ports
    const inFlightDeletes = new Set<number>(); // httpdids
    let killed = false;
    const create = async (): Promise<void> => {
      const port = await freePort();
      if (killed) return;
      inFlightCreates.add(port);
      const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: hello }).catch(() => null);
      if (r === null) return; // killed before the answer: either way
      inFlightCreates.delete(port);
      if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
      const id = (r.body as { httpdid: number }).httpdid;
      t.notOk(everSeen.has(id), `httpdid ${id} is new`);
      everSeen.add(id);
      known.set(id, port);
    };
    const remove = async (id: number): Promise<void> => {
      inFlightDeletes.add(id);
      const r = await svc.api('DELETE', `/servers/${id}`).catch(() => null);
      if (r === null) return; // killed before the answer: either way
      inFlightDeletes.delete(id);
      if (r.status !== 204) throw new Error(`delete ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      known.delete(id);
    };
    const ops: Array<Promise<void>> = [];
    const killAfter = 200 + Math.floor(random() * 1200);
    const started = Date.now();
    while (Date.now() - started < killAfter) {
      const victims = [...known.keys()].filter((id) => !inFlightDeletes.has(id));
      const victim = victims[Math.floor(random() * victims.length)];
      ops.push(victim !== undefined && random() < 0.4 ? remove(victim) : create());
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 80)));
    }
    killed = true;
    const exited = new Promise((r) => svc.proc.once('exit', r));
    svc.proc.kill('SIGKILL');
    await exited;
    await Promise.all(ops);
    t.comment(`iteration ${iteration}: killed after ${killAfter} ms with ${inFlightCreates.size} creations and ${inFlightDeletes.size} deletions unanswered`);

    uncertainCreates = inFlightCreates;
    uncertainDeletes = inFlightDeletes;
  }
});
