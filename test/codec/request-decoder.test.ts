// Request-decoder cases of test/http1/*.md ("type": "request": framing, bodies, chunked coding, pipelining, smuggling), each fed whole, byte by byte and split at every position.

import t from 'tap';
import { ERRORS } from '../../src/core/errors.js';
import { type Limits, resolveLimits } from '../../src/core/limits.js';
import { RequestDecoder } from '../../src/host/http1/request-decoder.js';
import { escapeBytes, loadHttpFixtures, targetLine } from '../helpers/http1-fixtures.js';
import { splits } from '../helpers/split.js';

/** What the decoder reports for `chunks`, as the log lines of test/http1/README.md. */
function requestLog(chunks: Buffer[], limits: Limits, parts: boolean): string[] {
  const log: string[] = [];
  let body = '';
  const flush = (): void => {
    if (body !== '') log.push(`body ${body}`);
    body = '';
  };
  const d = new RequestDecoder(limits, {
    onStart: () => undefined,
    onHead: (h, f) => {
      const framing = f.chunked ? 'chunked' : `length=${f.contentLength}`;
      log.push(`head ${h.method} ${h.target} HTTP/${h.version} ${framing} ${f.keepAlive ? 'keep-alive' : 'close'}${f.expectContinue ? ' expect-continue' : ''}`);
      if (parts) log.push(targetLine(h));
    },
    onBody: (chunk) => {
      body += chunk.toString('latin1');
    },
    onRequest: () => {
      flush();
      log.push('complete');
      return true;
    },
    onFault: (f) => {
      flush();
      log.push(`fault ${ERRORS[f.code].status} ${f.code}`);
    },
  });
  for (const c of chunks) d.push(c);
  flush();
  return log;
}

const cases = loadHttpFixtures().filter((c) => c.meta.type === 'request');

t.test('the request cases are read', async (t) => {
  t.ok(cases.length >= 80, `${cases.length} cases`);
  t.ok(
    cases.some((c) => c.file === 'smuggling.md'),
    'smuggling.md among them',
  );
});

for (const c of cases) {
  t.test(c.where, async (t) => {
    const limits = resolveLimits(c.meta.limits);
    const input = escapeBytes(c.input.toString('latin1'));
    for (const [how, chunks] of splits(c.input)) t.same(requestLog(chunks, limits, c.meta.parts), c.log, how, { input });
  });
}

const H = 'Host: h\r\n';
const LIMITS = resolveLimits(undefined);

t.test('a stopped decoder hands back the bytes it did not read', async (t) => {
  const seen: string[] = [];
  let target = '';
  const d = new RequestDecoder(LIMITS, {
    onStart: () => undefined,
    onHead: (h) => {
      target = h.target;
    },
    onBody: () => undefined,
    onRequest: () => {
      seen.push(target);
      return false;
    },
    onFault: () => t.fail('no fault'),
  });
  const rest = d.push(Buffer.from(`GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\n`));
  t.same(seen, ['/a']);
  t.equal(rest.toString(), `GET /b HTTP/1.1\r\n${H}\r\n`);
  t.equal(d.push(rest).length, 0);
  t.same(seen, ['/a', '/b']);
});

t.test('body bytes are handed on as they arrive, as views of the input, and not kept', async (t) => {
  const chunks: Buffer[] = [];
  let completed = 0;
  const d = new RequestDecoder(LIMITS, {
    onStart: () => undefined,
    onHead: () => undefined,
    onBody: (chunk) => chunks.push(chunk),
    onRequest: () => {
      completed++;
      return true;
    },
    onFault: () => t.fail('no fault'),
  });
  const first = Buffer.from(`POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nab`);
  d.push(first);
  t.equal(chunks.length, 1, 'the first bytes at once');
  t.equal(chunks[0]?.toString(), 'ab');
  t.equal(chunks[0]?.buffer, first.buffer, 'a view of the input, not a copy');
  t.equal(completed, 0);
  const second = Buffer.from(`cdeGET / HTTP/1.1\r\n${H}\r\n`);
  d.push(second);
  t.same(
    chunks.map((c) => c.toString()),
    ['ab', 'cde'],
  );
  t.equal(chunks[1]?.buffer, second.buffer);
  t.equal(completed, 2, 'the body request, then the one after it');
  const chunked = Buffer.from(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n`);
  d.push(chunked);
  t.equal(chunks[2]?.toString(), 'xyz', 'chunk data too');
  t.equal(chunks[2]?.buffer, chunked.buffer);
  t.equal(completed, 3);
});
