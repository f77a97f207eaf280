// `limits.isolates`: a server runs on that many isolates in each worker, each with its own module-level state; a request goes to an isolate free to take it, so one blocked (a spin, or a sync read of a body still arriving) does not hold up a ready request of the same server; with one isolate that request waits (the documented bound); the limit's range is checked and it counts against the memory quota.

import t from 'tap';
import { parseResponses, trickleUpload } from './helpers/raw-http.js';
import { startService } from './helpers/service.js';

/** Each isolate names itself once (module level) and counts its own requests; `/hold` spins 400 ms. */
const COUNTER = `const me = Math.random().toString(36).slice(2);
let n = 0;
export default (r) => {
  if (r.path === '/hold') { const end = Date.now() + 400; while (Date.now() < end); }
  return { version: '1.1', statuscode: 200, headers: {}, message: me + ' ' + (++n) };
}`;

t.test('isolates: 2 serves on two isolates, each keeping its own module state', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const { httpdid, port } = await svc.deploy(COUNTER, { isolates: 2, timeoutMs: 2000 });
  const view = await svc.api('GET', `/servers/${httpdid}`);
  t.equal((view.body as { limits: { isolates: number } }).limits.isolates, 2, 'the view shows the limit');
  // One isolate held by a spin: a ready request of the same server is answered by the other meanwhile.
  let holdDone = false;
  const hold = fetch(`http://127.0.0.1:${port}/hold`).then(async (r) => {
    holdDone = true;
    return r.text();
  });
  await new Promise((r) => setTimeout(r, 100));
  const quick = await (await fetch(`http://127.0.0.1:${port}/quick`)).text();
  t.notOk(holdDone, 'the quick request was answered while the other isolate still spun');
  const held = await hold;
  const [holder] = held.split(' ');
  const [other] = quick.split(' ');
  t.not(holder, other, 'by another isolate');
  // Per-isolate state: each isolate's counter runs 1, 2, 3… over the requests it served.
  const seen = new Map<string, number[]>();
  for (const line of [held, quick]) {
    const [id, n] = line.split(' ');
    seen.set(String(id), [...(seen.get(String(id)) ?? []), Number(n)]);
  }
  for (let i = 0; i < 40; i++) {
    const lines = await Promise.all([1, 2, 3, 4].map(async () => (await fetch(`http://127.0.0.1:${port}/q`)).text()));
    for (const line of lines) {
      const [id, n] = line.split(' ');
      seen.set(String(id), [...(seen.get(String(id)) ?? []), Number(n)]);
    }
  }
  t.equal(seen.size, 2, 'two isolates, no more');
  let total = 0;
  for (const [id, ns] of seen) {
    const sorted = [...ns].sort((a, b) => a - b);
    t.same(
      sorted,
      sorted.map((_, i) => i + 1),
      `isolate ${id} counted its own ${ns.length} requests, 1 to ${ns.length}`,
    );
    total += ns.length;
  }
  t.equal(total, 162, 'every request answered once');
});

t.test('a sync read of a body still arriving holds its own isolate only', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  const READER = `export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: r.verb + ' ' + r.datastream.read().length })`;
  for (const isolates of [2, 1]) {
    // bodyWindowBytes 0: the body streams while the handler runs, its read() blocking the isolate.
    const { port } = await svc.deploy(READER, { isolates, bodyWindowBytes: 0, timeoutMs: 5000 });
    const upload = await trickleUpload(port, 'POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\nConnection: close\r\n\r\n', 20, 50);
    t.teardown(() => upload.stop());
    await new Promise((r) => setTimeout(r, 150));
    let sentWhenAnswered = -1;
    const quick = fetch(`http://127.0.0.1:${port}/quick`).then(async (r) => {
      sentWhenAnswered = upload.sent();
      return `${r.status} ${await r.text()}`;
    });
    if (isolates === 2) {
      t.equal(await quick, '200 GET 0', 'isolates 2: a ready GET is answered');
      t.ok(upload.sent() < 20 && !upload.answered(), `while the upload still holds the other isolate (${upload.sent()} of 20 bytes sent)`);
    }
    const [res] = parseResponses(await upload.closed);
    t.equal(res?.body.toString(), 'POST 20', `isolates ${isolates}: the upload is answered with its whole body`);
    if (isolates === 1) {
      t.equal(await quick, '200 GET 0', 'isolates 1: the GET is answered');
      t.equal(sentWhenAnswered, 20, 'only once the whole upload was sent (the bound: one isolate runs one request at a time)');
    }
  }
});

t.test('the limit is checked, and counts against the memory quota', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  for (const bad of [0, 9, 1.5]) {
    const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port: 1, source: COUNTER, limits: { isolates: bad } });
    t.equal(r.status, 400, `isolates ${bad} refused`);
  }
  // The default tenant's memory quota is 8192 MiB: 512 MiB × 8 isolates × 1 replica fits twice, not three times.
  const big = { memoryMb: 512, isolates: 8 };
  await svc.deploy(COUNTER, big);
  await svc.deploy(COUNTER, big);
  const over = await svc.api('POST', '/servers', { host: '127.0.0.1', port: 1, source: COUNTER, limits: big });
  t.equal(over.status, 403, 'a third is over the quota');
  t.match(JSON.stringify(over.body), /memoryMb × isolates × replicas/);
});
