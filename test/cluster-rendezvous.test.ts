// Rendezvous hashing of cluster placements: the same answer on every node (deterministic, independent of the order nodes are listed), replicas capped by the nodes there are, a spread over the nodes, and a node leaving moves only the keys it held.

import t from 'tap';
import { addressKey, placeOn } from '../src/api/cluster/rendezvous.js';

const NODES = ['a', 'b', 'c', 'd'];
const keys = Array.from({ length: 400 }, (_, i) => addressKey('127.0.0.10', 20000 + i));

t.test('deterministic, whatever the order of the nodes', async (t) => {
  for (const k of keys.slice(0, 50)) t.same(placeOn(k, NODES, 2), placeOn(k, [...NODES].reverse(), 2), k);
});

t.test('replicas distinct and capped by the nodes there are', async (t) => {
  const two = placeOn(keys[0] ?? '', NODES, 2);
  t.equal(new Set(two).size, 2);
  t.same(placeOn(keys[0] ?? '', ['a', 'b'], 5).sort(), ['a', 'b']);
  t.same(placeOn(keys[0] ?? '', [], 1), []);
  t.same(placeOn(keys[0] ?? '', NODES, 0), []);
});

t.test('spread over the nodes', async (t) => {
  const counts = new Map<string, number>();
  for (const k of keys) {
    const [first] = placeOn(k, NODES, 1);
    if (first !== undefined) counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  t.comment(JSON.stringify(Object.fromEntries(counts)));
  for (const n of NODES) t.ok((counts.get(n) ?? 0) > 50, `node ${n} holds ${counts.get(n)} of ${keys.length} (a fair share is 100)`);
});

t.test('a node leaving moves only what it held; one joining takes only what it wins', async (t) => {
  let moved = 0;
  for (const k of keys) {
    const before = placeOn(k, NODES, 2);
    const after = placeOn(
      k,
      NODES.filter((n) => n !== 'c'),
      2,
    );
    if (!before.includes('c')) t.same(after, before, `${k} untouched`);
    else {
      moved++;
      t.same(
        after.filter((n) => before.includes(n)),
        before.filter((n) => n !== 'c'),
        `${k} keeps its other node`,
      );
    }
  }
  t.ok(moved > 0 && moved < keys.length, `${moved} of ${keys.length} moved`);
  for (const k of keys.slice(0, 100)) {
    const before = placeOn(k, NODES, 1);
    const after = placeOn(k, [...NODES, 'e'], 1);
    if (after[0] !== 'e') t.same(after, before, `${k} stays unless the new node wins it`);
  }
});
