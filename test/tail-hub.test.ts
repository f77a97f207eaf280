// The control process's tail hub: the workers are told the tailed set as it changes; console lines tied to a request wait for its entry (then ride in it), or are shown on their own after the hold; followers end on delete and on stop.

import t from 'tap';
import type { TailEvent } from '../src/host/worker/protocol.js';
import { type TailEntry, TailHub } from '../src/api/control/tail-hub.js';

const event = (requestId: string, path: string): TailEvent => ({ time: 0, requestId, method: 'GET', path, status: 200, outcome: 'ok', durationMs: 1, bytesIn: 0, bytesOut: 10 });

function rig(holdMs = 50): { hub: TailHub; told: number[][]; entries: TailEntry[]; ends: string[]; follower: Parameters<TailHub['follow']>[1] } {
  const told: number[][] = [];
  const entries: TailEntry[] = [];
  const ends: string[] = [];
  const hub = new TailHub(async (ids) => {
    told.push([...ids]);
  }, holdMs);
  return { hub, told, entries, ends, follower: { entry: (e) => entries.push(e), dropped: () => undefined, end: (why) => ends.push(why) } };
}

t.test('the tailed set follows the followers', async (t) => {
  const { hub, told, follower } = rig();
  const a = hub.follow(1, follower);
  await a.ready;
  const b = hub.follow(1, { ...follower });
  const c = hub.follow(2, follower);
  t.same(told, [[1], [1, 2]], 'told once per change, not per follower');
  a.stop();
  t.same(told.length, 2, 'one follower left on 1: no change');
  b.stop();
  t.same(told.at(-1), [2], 'the last follower of 1 gone');
  c.stop();
  t.same(told.at(-1), [], 'none tailed');
  t.notOk(hub.tailed(1));
});

t.test('lines tied to a request ride in its entry; others are shown at once', async (t) => {
  const { hub, entries, follower } = rig();
  hub.follow(1, follower);
  hub.console(1, 0, [
    ['log', 'free'],
    ['log', 'tied', 'r1'],
  ]);
  t.same(
    entries.map((e) => e.kind),
    ['console'],
    'the free line at once, the tied one held',
  );
  hub.requests(1, [event('r1', '/x')]);
  t.match(entries[1], { kind: 'request', requestId: 'r1', path: '/x', logs: [{ level: 'log', message: 'tied' }] });
  hub.console(9, 0, [['log', 'nobody tails 9']]);
  hub.requests(9, [event('r9', '/y')]);
  t.equal(entries.length, 2, 'nothing for a server no one tails');
});

t.test('a held line whose entry never comes is shown on its own after the hold', async (t) => {
  const { hub, entries, follower } = rig(30);
  hub.follow(1, follower);
  hub.console(1, 0, [['warn', 'orphan', 'lost-1']]);
  t.equal(entries.length, 0);
  await new Promise((r) => setTimeout(r, 80));
  t.match(entries, [{ kind: 'console', level: 'warn', message: 'orphan', requestId: 'lost-1' }]);
});

t.test('delete and stop end the followers, held lines shown first', async (t) => {
  const { hub, entries, ends, told, follower } = rig(10_000);
  hub.follow(1, follower);
  hub.follow(2, follower);
  hub.console(1, 0, [['log', 'held', 'r']]);
  hub.close(1);
  t.match(entries, [{ kind: 'console', message: 'held', requestId: 'r' }]);
  t.same(ends, ['deleted']);
  t.same(told.at(-1), [2]);
  hub.closeAll();
  t.same(ends, ['deleted', 'stopping']);
  t.same(told.at(-1), []);
});
