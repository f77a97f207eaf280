// Seeded fuzz: 100k random and mutated requests against a live listener; the worker never dies and every reply is well-formed HTTP or a close.

import net from 'node:net';
import t from 'tap';
import { startService } from './helpers/service.js';

const SEED = Number(process.env['ISOHTTPD_FUZZ_SEED'] ?? 0x15a7);
const COUNT = Number(process.env['ISOHTTPD_FUZZ_COUNT'] ?? 100_000);
const CONCURRENCY = 48;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  'GET / HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /a/b?c=d&e HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nUser-Agent: fuzz\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n',
  'GET /old\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n',
  'PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
];
const NOISE = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x22, 0x7f, 0xff];

function mutate(rand: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  if (rand() < 0.05) {
    // pure noise
    return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  }
  let bytes = [...Buffer.from(pick(SEEDS), 'latin1')];
  const rounds = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[at % bytes.length] = ((bytes[at % bytes.length] ?? 0) ^ (1 << Math.floor(rand() * 8))) & 0xff;
        break;
      case 1: // insert CR, LF, NUL, SP, TAB or another separator
        bytes.splice(at, 0, pick(NOISE));
        break;
      case 2: {
        // duplicate a line (duplicated headers)
        const s = Buffer.from(bytes).toString('latin1');
        const lines = s.split('\r\n');
        const i = Math.floor(rand() * lines.length);
        lines.splice(i, 0, lines[i] ?? '');
        bytes = [...Buffer.from(lines.join('\r\n'), 'latin1')];
        break;
      }
      case 3: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 4: // delete a byte
        bytes.splice(at, 1);
        break;
      default: // replace a byte with a random one
        if (bytes.length > 0) bytes[at % bytes.length] = Math.floor(rand() * 256);
    }
  }
  return Buffer.from(bytes);
}

/** Checks a reply: zero or more well-formed HTTP/1.x responses (interim 100 allowed), or an HTTP/0.9 body. */
function wellFormed(reply: Buffer): string | null {
  if (reply.length === 0) return null;
  if (!reply.subarray(0, 5).equals(Buffer.from('HTTP/'))) return reply.toString('latin1') === 'ok' || /^[ -~]*\n$/.test(reply.toString('latin1')) ? null : 'neither HTTP/1.x nor a 0.9 body';
  let pos = 0;
  while (pos < reply.length) {
    const end = reply.indexOf('\r\n\r\n', pos);
    if (end === -1) return 'incomplete response head';
    const lines = reply.subarray(pos, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*$/.exec(lines[0] ?? '');
    if (status === null) return `bad status line ${JSON.stringify(lines[0])}`;
    let length: number | null = null;
    for (const line of lines.slice(1)) {
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): ?([^\r\n]*)$/.exec(line);
      if (m === null) return `bad header line ${JSON.stringify(line)}`;
      if (m[1]?.toLowerCase() === 'content-length') length = Number(m[2]);
    }
    const code = Number(status[1]);
    if (code >= 200 && code !== 204 && code !== 304 && length === null) return 'final response without Content-Length';
    pos = end + 4 + (code < 200 ? 0 : (length ?? 0));
    if (pos > reply.length) return 'body shorter than Content-Length';
  }
  return null;
}

function send(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on('connect', () => s.end(bytes));
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

t.test(`${COUNT} fuzzed requests (seed ${SEED})`, async (t) => {
  const svc = await startService(t);
  const { port } = await svc.deploy("export default (r) => ({ version: '1.1', statuscode: 200, headers: {}, message: 'ok' })", { headersTimeoutMs: 2000 });
  const rand = prng(SEED);
  const inputs = Array.from({ length: COUNT }, () => mutate(rand));
  let bad = 0;
  let next = 0;
  const stats = { empty: 0, http: 0, http09: 0 };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < inputs.length) {
        const i = next++;
        const input = inputs[i] as Buffer;
        const reply = await send(port, input);
        const problem = wellFormed(reply);
        if (reply.length === 0) stats.empty++;
        else if (reply.subarray(0, 5).toString() === 'HTTP/') stats.http++;
        else stats.http09++;
        if (problem !== null && bad++ < 10) t.fail(`case ${i}: ${problem}\n  input ${JSON.stringify(input.toString('latin1'))}\n  reply ${JSON.stringify(reply.toString('latin1').slice(0, 300))}`);
      }
    }),
  );
  t.equal(bad, 0, `every reply well-formed (${stats.http} HTTP, ${stats.http09} HTTP/0.9, ${stats.empty} closed without a reply)`);
  t.notMatch(svc.output(), /sandbox worker exited|catastrophic/, 'the worker never died');
  const res = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(await res.text(), 'ok', 'still serving');
});
