// The async datastream: `for await (const chunk of request.datastream)`, `readAsync(n)` and `textAsync()` wait for body bytes without blocking the isolate, so the server's other requests are answered while a streamed upload is still arriving; a sync read while an async one waits is a TypeError.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';
import { parseResponses, trickleUpload } from './helpers/raw-http.js';

const HANDLER = `export default async (r) => {
  const ok = (message) => ({ version: '1.1', statuscode: 200, headers: {}, message });
  if (r.path === '/iterate') { let n = 0, chunks = 0; for await (const c of r.datastream) { n += c.length; chunks++; } return ok('iterated ' + n + ' in ' + (chunks > 0 ? 'chunks' : 'none')); }
  if (r.path === '/sized') { const a = await r.datastream.readAsync(3); const b = await r.datastream.readAsync(100); const end = await r.datastream.readAsync(1); return ok(new TextDecoder().decode(a) + '|' + new TextDecoder().decode(b) + '|' + end.length); }
  if (r.path === '/text') return ok('text ' + (await r.datastream.textAsync()));
  if (r.path === '/both') { const p = r.datastream.readAsync(1); try { r.datastream.read(1); } catch (e) { await p; return ok(e.name + ': ' + e.message); } return ok('no error'); }
  return ok('quick');
};`;

t.test('async reads do not block the isolate', async (t) => {
  const svc = await startService(t, ['--workers', '1']);
  // Window 0: every body streams while its handler runs.
  const { port } = await svc.deploy(HANDLER, { timeoutMs: 8000, bodyWindowBytes: 0, cpuShareWindowMs: 60000 });
  const upload = await trickleUpload(port, 'POST /iterate HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\nConnection: close\r\n\r\n', 20, 60, 'y');
  t.teardown(() => upload.stop());
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const r = await fetch(`http://127.0.0.1:${port}/quick`);
    t.equal(await r.text(), 'quick', `request ${i + 1} of the same server answered`);
    t.ok(upload.sent() < 20 && !upload.answered(), `while the iterating handler still waits for its body (${upload.sent()} of 20 bytes sent)`);
  }
  t.equal(parseResponses(await upload.closed)[0]?.body.toString(), 'iterated 20 in chunks', 'for await saw the whole body');

  /** One request whose body is sent `delayMs` after its head; resolves with the answer's body. */
  const one = async (path: string, body: string, delayMs = 0): Promise<string> => {
    const bytes = Buffer.from(body, 'utf8');
    const c = net.connect(port, '127.0.0.1');
    let answer = Buffer.alloc(0);
    c.on('data', (d: Buffer) => (answer = Buffer.concat([answer, d])));
    const done = new Promise((r) => c.once('close', r));
    await new Promise((r) => c.once('connect', r));
    c.write(`POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    c.write(bytes);
    await done;
    return parseResponses(answer)[0]?.body.toString() ?? '';
  };
  t.equal(await one('/sized', 'abcdefgh'), 'abc|defgh|0', 'readAsync(n): at most n bytes, then empty at the end');
  t.equal(await one('/text', 'héllo'), 'text héllo', 'textAsync(): the rest as UTF-8');
  t.equal(await one('/both', 'zz', 300), 'TypeError: datastream: an async read is still waiting', 'a sync read while an async one waits');
});
