// A follower that does not read is bounded: lines beyond the queue are dropped and replaced by a `{"dropped": N}` line, and every line is either delivered or counted.

import t from 'tap';
import { follow } from './helpers/follow.js';
import { startService } from './helpers/service.js';

const LINES_PER_REQUEST = 50;
const REQUESTS = 60;
const LINE_CHARS = 4000;

// Each request writes 50 lines of 4000 characters (~0.2 MB); 60 requests are ~12 MB, over twice
// the follow queue (1 MiB) plus what the kernel buffered for a connection nobody reads here (~4 MB).
// Small bursts per request: a worker busy sending a large one can miss its heartbeat on a loaded machine.
const HANDLER = `const pad = 'x'.repeat(${LINE_CHARS});
export default function handler(request) {
  for (let i = 0; i < ${LINES_PER_REQUEST}; i++) console.log(request.path + ' ' + i + ' ' + pad);
  return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' };
}
`;

t.test('a slow follower gets a dropped-lines marker instead of unbounded buffering', async (t) => {
  const svc = await startService(t);
  const { httpdid, port } = await svc.deploy(HANDLER);
  const f = await follow(svc.url, httpdid);
  f.response.pause();

  for (let i = 0; i < REQUESTS; i++) await (await fetch(`http://127.0.0.1:${port}/r${i}`)).text();
  // Every line has reached the control process once the last one is in the ring buffer.
  const last = `/r${REQUESTS - 1} ${LINES_PER_REQUEST - 1} `;
  let arrived = false;
  for (let i = 0; i < 600 && !arrived; i++) {
    const kept = (await svc.api('GET', `/servers/${httpdid}/logs`)).body.lines as Array<{ message: string }>;
    arrived = kept.at(-1)?.message.startsWith(last) ?? false;
    if (!arrived) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(arrived, 'every line reached the control process (within 60 s)');

  f.response.resume();
  t.equal((await svc.api('DELETE', `/servers/${httpdid}`)).status, 204);
  await f.ended;

  const markers = f.lines.filter((l): l is { dropped: number; time: string } => typeof (l as { dropped?: unknown }).dropped === 'number');
  const delivered = f.lines.filter((l) => typeof (l as { message?: unknown }).message === 'string');
  const dropped = markers.reduce((n, m) => n + m.dropped, 0);
  t.ok(markers.length > 0, `lines were dropped (${dropped} of ${REQUESTS * LINES_PER_REQUEST}, in ${markers.length} gaps)`);
  for (const m of markers) t.match(m, { dropped: Number, time: /^\d{4}-.*Z$/ }, 'a marker is {dropped, time}');
  t.equal(delivered.length + dropped, REQUESTS * LINES_PER_REQUEST, 'every line was delivered or counted as dropped');
  t.ok(delivered.length > 0, 'lines before the queue filled were delivered');
  // What was delivered is in order, each line once.
  const order = delivered.map((l) => {
    const [, r, i] = /^\/r(\d+) (\d+) /.exec((l as { message: string }).message) ?? [];
    return Number(r) * LINES_PER_REQUEST + Number(i);
  });
  t.ok(
    order.every((n, i) => i === 0 || n > (order[i - 1] ?? -1)),
    'delivered lines are in order, none repeated',
  );
});
