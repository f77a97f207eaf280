// The worker RSS backstop's policy with an injected resident set and clock: the budget's arithmetic, whom it blames, its hysteresis after a reset, and when it asks for the worker's retirement (test/hostile/rss-backstop.test.ts runs it for real).

import t from 'tap';
import { workerArgv, workerOptions } from '../src/host/worker/protocol.js';
import { BACKSTOP_DETAIL, type BackstopEvent, type BackstopServer, backstopOptions, RssBackstop } from '../src/host/worker/rss-backstop.js';

const MIB = 1024 * 1024;

/** A hosted server as the backstop sees it; `stop()` settles its last reset (its calls returned). */
class Server implements BackstopServer {
  readonly httpdid: number;
  /** CPU time of its isolates, ns. */
  busyNs = 0n;
  heapUsed: number;
  memoryMb: number;
  resets = 0;
  /** No isolate to reset (abandoned). */
  gone = false;
  #stop: (() => void) | null = null;

  constructor(httpdid: number, heapMb: number, memoryMb = 64) {
    this.httpdid = httpdid;
    this.heapUsed = heapMb * MIB;
    this.memoryMb = memoryMb;
  }

  isolateMemoryMb(): number {
    return this.memoryMb;
  }

  resetMemory(detail: string): Promise<void> | null {
    if (this.gone) return null;
    if (detail !== BACKSTOP_DETAIL) throw new Error(`unexpected detail ${detail}`);
    this.resets++;
    return new Promise((resolve) => {
      this.#stop = resolve;
    });
  }

  stop(): void {
    this.#stop?.();
  }
}

/** A backstop over `servers` whose RSS is `rss.mb`; `tick(ms)` advances the clock and polls. */
function rig(servers: Server[], limitMb: number, idleMb = 100) {
  const rss = { mb: idleMb, compiling: 0 };
  const events: BackstopEvent[] = [];
  const retired: Array<[number, string]> = [];
  let now = 0;
  const b = new RssBackstop(
    { servers: () => servers, compiling: () => rss.compiling, rss: () => rss.mb * MIB, report: (e) => events.push(e), retire: (id, m) => retired.push([id, m]) },
    backstopOptions(limitMb),
    now,
  );
  const tick = async (ms = 100): Promise<void> => {
    now += ms;
    b.check(now);
    await new Promise((r) => setImmediate(r));
  };
  return { b, rss, events, retired, tick, servers };
}

t.test('the budget: fixed, or idle RSS + 64 MiB + 4 × memoryMb per isolate', async (t) => {
  const a = new Server(1, 10, 64);
  const c = new Server(2, 10, 128);
  const auto = rig([a, c], 0, 90);
  t.equal(auto.b.idleMb, 90, 'idle RSS read at start');
  t.equal(auto.b.budgetMb(), 90 + 64 + 4 * (64 + 128));
  // A standby (or a prepared version) doubles what a server's isolates may hold.
  c.memoryMb = 256;
  t.equal(auto.b.budgetMb(), 90 + 64 + 4 * (64 + 256), 'follows what the servers host now');
  t.equal(rig([a, c], 300).b.budgetMb(), 300, 'a fixed ceiling ignores the servers');
  t.same(workerOptions(workerArgv({ rssLimitMb: 512 })), { rssLimitMb: 512, egressAllowNetworks: [] }, 'the ceiling travels on the command line');
  t.same(workerOptions([]), { rssLimitMb: 0, egressAllowNetworks: [] }, 'absent: automatic');
  t.same(workerOptions(['--rss-limit-mb=-3']), { rssLimitMb: 0, egressAllowNetworks: [] }, 'malformed: automatic');
});

t.test('blame: the server the RSS grew under (by its CPU time), else the largest heap', async (t) => {
  const big = new Server(1, 50);
  const grower = new Server(2, 5);
  const r = rig([big, grower], 200);
  await r.tick();
  grower.busyNs += 50_000_000n;
  big.busyNs += 1_000_000n;
  r.rss.mb = 180;
  await r.tick();
  grower.busyNs += 20_000_000n;
  r.rss.mb = 210;
  await r.tick();
  t.same([big.resets, grower.resets], [0, 1], 'the one whose isolates ran while the RSS grew, not the larger heap');
  t.match(r.events, [{ httpdid: 2, action: 'reset', rssMb: 210, budgetMb: 200 }]);

  const idleHeavy = new Server(1, 50);
  const idleLight = new Server(2, 5);
  const q = rig([idleHeavy, idleLight], 200);
  q.rss.mb = 250;
  await q.tick();
  t.same([idleHeavy.resets, idleLight.resets], [1, 0], 'no CPU used: the largest heap sample');

  // 100 MiB of growth while a server's isolates used 1 ms of CPU: at most 4 MiB of it can be that
  // server's (the rest is another's module evaluation, say): under 8 MiB, the largest heap is blamed.
  const light = new Server(1, 5);
  const heavy = new Server(2, 50);
  const u = rig([light, heavy], 200, 150);
  await u.tick();
  light.busyNs += 1_000_000n;
  u.rss.mb = 250;
  await u.tick();
  t.same([light.resets, heavy.resets], [0, 1], 'growth its CPU time cannot explain is not blamed on it');
  // A light server's requests ran while the RSS grew by another's module evaluation (40 MiB of
  // buffers, in its heap sample with its external memory): the holder is blamed, not the light one.
  const runner = new Server(1, 1);
  const holder = new Server(2, 41);
  const v = rig([runner, holder], 200, 150);
  await v.tick();
  runner.busyNs += 10_000_000n;
  holder.busyNs += 1_000_000n;
  v.rss.mb = 250;
  await v.tick();
  t.same([runner.resets, holder.resets], [0, 1], 'growth plus heap sample: the server holding more than the growth misattributed to another');
  t.same(rig([], 200, 500).events, [], 'no server: nothing to do');

  // A server deployed beside a busy one: its module evaluation fills 60 MiB of buffers before it is
  // hosted (not among the servers, no heap sample yet), while the busy one's requests use CPU.
  const busy = new Server(1, 1);
  const w = rig([busy], 200, 150);
  await w.tick();
  w.rss.compiling = 1;
  for (let i = 0; i < 5; i++) {
    busy.busyNs += 5_000_000n;
    w.rss.mb += 12;
    await w.tick();
  }
  t.same([busy.resets, w.events.length], [0, 0], 'over the budget while a server is compiled: held, nobody blamed yet');
  const deployed = new Server(2, 0);
  deployed.busyNs = 40_000_000n;
  w.servers.push(deployed);
  w.rss.compiling = 0;
  await w.tick();
  t.same([busy.resets, deployed.resets], [0, 1], 'once it is hosted, its module evaluation counts whole: it is blamed, not the busy one');
  const x = rig([new Server(1, 1)], 200, 150);
  x.rss.compiling = 1;
  x.rss.mb = 500;
  await x.tick();
  t.match(x.events, [{ httpdid: 1, action: 'reset' }], 'a runaway past 2 × the budget is acted on even while a server is compiled');
});

t.test('hysteresis: one reset, re-armed only under the budget of that moment', async (t) => {
  const s = new Server(1, 50, 64);
  const r = rig([s], 0, 100);
  const budget = 100 + 64 + 4 * 64;
  r.rss.mb = budget + 10;
  await r.tick();
  t.equal(s.resets, 1, 'reset once over');
  // The replacement's standby raises the budget; the RSS still above the old one: no second reset, no re-arm.
  s.memoryMb = 128;
  await r.tick();
  await r.tick();
  t.equal(s.resets, 1, 'no second reset while the reset isolate stops');
  s.stop();
  await r.tick();
  r.rss.mb = budget + 150;
  await r.tick();
  t.equal(s.resets, 1, 'under the raised budget once stopped: re-armed, but not over it');
  r.rss.mb = 100 + 64 + 4 * 128 + 1;
  await r.tick();
  t.equal(s.resets, 2, 'over the budget again: a second reset');
  t.same(r.retired, [], 'never retired');
});

t.test('retirement when the reset is not enough', async (t) => {
  const still = new Server(1, 50);
  const a = rig([still], 200);
  a.rss.mb = 250;
  await a.tick();
  still.stop();
  await new Promise((r) => setImmediate(r));
  await a.tick(100);
  await a.tick(300);
  t.same(a.retired, [], `not before ${backstopOptions(0).settleMs} ms after the isolate stopped`);
  await a.tick(300);
  t.match(a.retired, [[1, /^worker out of memory: its resident set \(250 MiB\) is over its budget \(200 MiB\), still over it after the isolate was reset$/]]);
  t.match(a.events.at(-1), { httpdid: 1, action: 'retire' });
  await a.tick();
  t.equal(a.retired.length, 1, 'once; then the backstop stops');

  const stuck = new Server(1, 50);
  const b = rig([stuck], 200);
  b.rss.mb = 250;
  await b.tick();
  for (let i = 0; i < 59; i++) await b.tick();
  t.same(b.retired, [], 'waits for a stuck isolate');
  await b.tick();
  t.match(b.retired, [[1, /the reset isolate did not stop/]], `retired ${backstopOptions(0).stopWaitMs} ms after the reset`);

  const runaway = new Server(1, 50);
  const c = rig([runaway], 200);
  c.rss.mb = 250;
  await c.tick();
  c.rss.mb = 401;
  await c.tick();
  t.match(c.retired, [[1, /passed 2 times its budget/]], 'at once past twice the budget');

  const gone = new Server(1, 50);
  gone.gone = true;
  const d = rig([gone], 200);
  d.rss.mb = 250;
  await d.tick();
  t.match(d.retired, [[1, /has no isolate to reset/]], 'nothing to reset: at once');
});
