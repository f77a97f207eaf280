// The RSS backstop polls sooner as its worker's resident set nears the budget: a thread filling pages as fast as one can must not cross the headroom between two polls (test/hostile/rss-backstop.test.ts measures the overshoot for real).

import t from 'tap';
import { RSS_GROWTH_PER_CPU_MS_MB, RSS_MIN_POLL_MS, RSS_POLL_MS } from '../src/core/supervision.js';
import { backstopOptions, RssBackstop } from '../src/host/worker/rss-backstop.js';

const MIB = 1024 * 1024;

/** A backstop with no servers whose resident set is `rss.mb`, under a fixed budget of `limitMb`. */
function rig(limitMb: number): { b: RssBackstop; rss: { mb: number } } {
  const rss = { mb: 100 };
  const hooks = { servers: () => [], compiling: () => 0, rss: () => rss.mb * MIB, report: () => {}, retire: () => {} };
  return { b: new RssBackstop(hooks, backstopOptions(limitMb), 0), rss };
}

t.test('far from the budget it polls every RSS_POLL_MS', async (t) => {
  const { b, rss } = rig(2000);
  t.equal(b.check(100), RSS_POLL_MS, `${RSS_POLL_MS} ms with 1900 MiB of headroom`);
  rss.mb = 2000 - RSS_GROWTH_PER_CPU_MS_MB * RSS_POLL_MS;
  t.equal(b.check(200), RSS_POLL_MS, 'still the longest period with exactly one period of headroom');
});

t.test('near the budget the period shrinks with the headroom, down to RSS_MIN_POLL_MS', async (t) => {
  const { b, rss } = rig(300);
  rss.mb = 300 - RSS_GROWTH_PER_CPU_MS_MB * 40;
  t.equal(b.check(100), 40, `40 ms with what a thread fills in 40 ms left (${RSS_GROWTH_PER_CPU_MS_MB} MiB per ms)`);
  rss.mb = 299;
  t.equal(b.check(140), RSS_MIN_POLL_MS, '1 MiB left: the shortest period');
  rss.mb = 400;
  t.equal(b.check(150), RSS_MIN_POLL_MS, 'over the budget: the shortest period');
});

t.test('the timer follows the period it is given', async (t) => {
  // A real timer over a resident set 1 MiB under the budget: polls come every RSS_MIN_POLL_MS, not every RSS_POLL_MS.
  let reads = 0;
  const hooks = {
    servers: () => [],
    compiling: () => 0,
    rss: () => {
      reads++;
      return 299 * MIB;
    },
    report: () => {},
    retire: () => {},
  };
  const b = new RssBackstop(hooks, backstopOptions(300));
  reads = 0;
  b.start();
  // Keep the event loop alive: the backstop's timer is unref'd.
  await new Promise((r) => setTimeout(r, RSS_POLL_MS * 3));
  b.close();
  t.ok(reads >= 6, `at least 6 polls in ${RSS_POLL_MS * 3} ms (${reads}), where a fixed period would give 3`);
  const after = reads;
  await new Promise((r) => setTimeout(r, RSS_POLL_MS * 2));
  t.equal(reads, after, 'no poll after close()');
});
