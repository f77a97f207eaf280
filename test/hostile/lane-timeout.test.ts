// Hostile, `isolates: 2`: a request that spins to its time limit (504) and one that blows its memory limit (503) take down their own isolate only: the server's requests meanwhile are answered 200 by its other isolate, whose module state survives, and the lost isolate is replaced (a fresh one serves after).

import t from 'tap';
import { startService } from '../helpers/service.js';
import { get } from './helpers.js';

const HANDLER = `const me = Math.random().toString(36).slice(2);
export default (r) => {
  if (r.path === '/spin') for (;;);
  if (r.path === '/grow') { const a = []; for (;;) a.push(new Array(1e5).fill(a.length)); }
  return { version: '1.1', statuscode: 200, headers: {}, message: me };
}`;

for (const [path, status] of [
  ['/spin', 504],
  ['/grow', 503],
] as const) {
  t.test(`${path} kills its own isolate only`, async (t) => {
    const svc = await startService(t, ['--workers', '1']);
    const { port } = await svc.deploy(HANDLER, { isolates: 2, timeoutMs: 600, memoryMb: 32 });
    let ended = false;
    const attack = get(port, path).then((r) => {
      ended = true;
      return r;
    });
    const during: Array<{ status: number; text: string }> = [];
    while (!ended) {
      during.push(await get(port, '/q'));
      await new Promise((r) => setTimeout(r, 20));
    }
    t.equal((await attack).status, status, `${path} answered ${status}`);
    t.ok(during.length >= 3, `${during.length} requests were made while it ran`);
    t.same(
      during.map((r) => r.status),
      during.map(() => 200),
      'every one answered 200',
    );
    // The other isolate, and once the lost one is replaced (before its client has read the answer) the fresh one.
    t.ok(new Set(during.map((r) => r.text)).size <= 2, 'by the other isolate or the fresh one');
    const after = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const [a, b] = await Promise.all([get(port, '/q'), get(port, '/q')]);
      for (const r of [a, b]) {
        t.equal(r.status, 200);
        after.add(r.text);
      }
    }
    t.ok(after.has(during[0]?.text ?? ''), 'the survivor serves on, its module state kept');
    t.equal(after.size, 2, 'beside a fresh isolate');
  });
}
