// The llhttp request suite (test/fixtures/llhttp, llhttp 9.4.2's cases as data) against a live listener: every strict case agrees, or is a listed deviation.

import t from 'tap';
import { readJsonFixture } from './helpers/fixtures.js';
import { startService } from './helpers/service.js';
import { exchange } from './helpers/raw-http.js';

interface Case {
  file: string;
  name: string;
  meta: Record<string, unknown> & { type?: string };
  input: string;
  errorCode: number | null;
  reason: string | null;
  messagesComplete: number;
}

const cases = (readJsonFixture('llhttp/request-cases.json') as Case[]).filter((c) => c.meta.type === 'request' && c.meta['pause'] === undefined);

/** llhttp's pause codes: 22 CONNECT/Upgrade, 23 PRI — a hand-off, not an error. 5: data after `Connection: close`. */
const PAUSED = new Set([22, 23]);
const CLOSED_AFTER = 5;
const HTTP09 = /^(\r\n)*GET [^ \r\n]+\r\n/;
const FIRST_IS_11 = /^(\r\n)*[^ \r\n]+ [^ \r\n]+ HTTP\/1\.1\r\n/;

/** What this server does instead, and why. Keyed by `file / name`. */
const DEVIATIONS: Record<string, { served: number; status?: number; why: string }> = {
  'invalid.md / HTTP protocol and ANNOUNCE method': { served: 1, why: 'methods are tokens (RFC 9110 §9.1); llhttp knows a fixed list, and only for RTSP here' },
  'invalid.md / Invalid method': { served: 1, why: 'MKCOLA is a valid token method (RFC 9110 §9.1); handlers route on any verb' },
  'method.md / SOURCE request with ICE': { served: 0, status: 400, why: 'only HTTP/x.y versions are spoken here (RFC 9112 §2.3), not ICE' },
  'method.md / OPTIONS request with RTSP': { served: 0, status: 400, why: 'only HTTP/x.y versions are spoken here, not RTSP' },
  'method.md / ANNOUNCE request with RTSP': { served: 0, status: 400, why: 'only HTTP/x.y versions are spoken here, not RTSP' },
  'method.md / CONNECT request': { served: 0, status: 400, why: 'no tunnels are offered: authority-form targets are refused' },
  'method.md / CONNECT request with CAPS': { served: 0, status: 400, why: 'no tunnels are offered: authority-form targets are refused' },
  'method.md / CONNECT with body': { served: 0, status: 400, why: 'no tunnels are offered: authority-form targets are refused' },
  'uri.md / Underscore in hostname': { served: 0, status: 400, why: 'a CONNECT: no tunnels are offered' },
  'invalid.md / Invalid HTTP version': { served: 0, status: 505, why: 'a well-formed HTTP/x.y other than 1.0/1.1 is 505 HTTP Version Not Supported (RFC 9110 §15.6.6), a 5xx by definition' },
  'method.md / M-SEARCH request': { served: 0, status: 400, why: 'asterisk-form is defined for OPTIONS only (RFC 9112 §3.2.4); SSDP is not HTTP service' },
  'transfer-encoding.md / POST with `chunkedchunked` as transfer-encoding': { served: 0, status: 501, why: '"chunkedchunked" is an unknown coding: 501 (RFC 9112 §6.1), not a 4xx' },
  'transfer-encoding.md / Ignoring `pigeons`': { served: 0, status: 501, why: 'an unknown transfer coding is 501 (RFC 9112 §6.1), not a 4xx' },
  'uri.md / Quotes in URI': { served: 0, status: 400, why: '`"` and `\\` are not URI characters (RFC 3986 §3.3, §3.4: pchar, query); a browser sends %22' },
  'uri.md / Query URL with vertical bar character': { served: 0, status: 400, why: '`|` is not a query character of RFC 3986 (§3.4); it is sent as %7C' },
  'uri.md / `host:port` and basic auth': { served: 0, status: 400, why: 'userinfo in an http URI is treated as an error (RFC 9110 §4.2.4)' },
  'transfer-encoding.md / POST with `chunked` as last transfer-encoding': {
    served: 0,
    status: 501,
    why: 'codings other than chunked (deflate) are not decoded: 501 rather than passing compressed bytes to the handler',
  },
  'transfer-encoding.md / POST with `chunked` as last transfer-encoding (multiple headers)': { served: 0, status: 501, why: 'as above: deflate is not decoded' },
  'content-length.md / Content-Length reset when no body is received': {
    served: 0,
    why: 'llhttp ran it with skipBody (a HEAD response); a request body of Content-Length 123 is read, so the second request is body bytes',
  },
};

/** RFC 9112 §3.2: this server requires Host on HTTP/1.1, llhttp does not. Inputs without any Host get one after each 1.1 request line. */
function withHost(input: Buffer): { bytes: Buffer; added: boolean } {
  const s = input.toString('latin1');
  if (/\r\nhost[ \t]*:/i.test(s) || !s.includes(' HTTP/1.1\r\n')) return { bytes: input, added: false };
  return { bytes: Buffer.from(s.replaceAll(' HTTP/1.1\r\n', ' HTTP/1.1\r\nHost: h\r\n'), 'latin1'), added: true };
}

/**
 * RFC 9112 §3.2 and RFC 3986: a request-target never carries a fragment; this server refuses one with
 * 400, llhttp parses it. Inputs with one are run without it (so the case still tests what it is
 * about), and the original input is checked to be refused.
 */
function withoutFragment(input: Buffer): { bytes: Buffer; stripped: boolean } {
  const s = input.toString('latin1');
  const out = s.replace(/#[\x21-\x7e]*(?= HTTP\/[0-9]\.[0-9]\r\n)/g, '');
  return out === s ? { bytes: input, stripped: false } : { bytes: Buffer.from(out, 'latin1'), stripped: true };
}

/** Status codes of the responses in a byte stream (Content-Length framed, as this server writes them). */
function statuses(buf: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end === -1) break;
    const head = buf.subarray(pos, end).toString('latin1');
    out.push(Number(head.split(' ')[1]));
    const cl = /\r\ncontent-length: (\d+)/i.exec(head);
    pos = end + 4 + (cl === null ? 0 : Number(cl[1]));
  }
  return out;
}

t.test('llhttp request suite', async (t) => {
  const svc = await startService(t);
  // The handler reads its whole body first, so a request counts as served only once it is complete (as llhttp counts).
  const { port } = await svc.deploy("export default (r) => { r.datastream.read(); return { version: '1.1', statuscode: 200, headers: {}, message: 'ok' }; }");
  t.ok(cases.length > 100, `${cases.length} strict, non-pause cases`);
  const seen = new Set<string>();
  for (const c of cases) {
    const key = `${c.file} / ${c.name}`;
    if (seen.has(key)) {
      // Two cases share a heading in method.md ("LINK request"); the key stays unique by order.
    }
    seen.add(key);
    const input = Buffer.from(c.input, 'base64');
    const { bytes: hosted, added } = withHost(input);
    const { bytes, stripped } = withoutFragment(hosted);
    const reply = await exchange(port, bytes, { halfClose: true, idleMs: 2000 });
    // An HTTP/0.9 answer is the body alone, without a status line.
    const got = HTTP09.test(bytes.toString('latin1')) ? (reply.toString() === 'ok' ? [200] : [0]) : statuses(reply);
    const served = got.filter((s) => s < 300).length;
    const errors = got.filter((s) => s >= 400);
    const dev = DEVIATIONS[key];
    const label = `${key}${added ? ' (+Host)' : ''}${stripped ? ' (-fragment)' : ''}: llhttp ${c.errorCode === null ? 'accepts' : `error ${c.errorCode}`} after ${c.messagesComplete}; got [${got.join(',')}]`;
    if (dev !== undefined) {
      t.equal(served, dev.served, `${label} — deviation: ${dev.why}`);
      if (dev.status !== undefined) t.equal(errors[0], dev.status, `${label} — status`);
    } else if (c.errorCode === null) {
      t.ok(served === c.messagesComplete && errors.length === 0, label);
    } else if (PAUSED.has(c.errorCode) || c.errorCode === CLOSED_AFTER) {
      // llhttp hands the connection over (upgrade) or refuses bytes after `close`: the requests before are served.
      t.equal(served, c.messagesComplete, label);
    } else {
      t.ok(served === c.messagesComplete && errors.length === 1 && (errors[0] ?? 0) < 500, label);
    }
    if (stripped) {
      // As sent, with its fragment: the first request is refused.
      const raw = statuses(await exchange(port, hosted, { halfClose: true, idleMs: 2000 }));
      t.equal(raw[0], 400, `${key}: with its fragment: [${raw.join(',')}]`);
    }
    if (added && FIRST_IS_11.test(input.toString('latin1'))) {
      // As sent, without Host: the first request is refused (400, or earlier by a fault of its own), nothing is served.
      const raw = statuses(await exchange(port, input, { halfClose: true, idleMs: 2000 }));
      t.ok(
        raw.every((s) => s >= 400),
        `${key}: without Host: [${raw.join(',')}]`,
      );
    }
  }
  t.ok((await fetch(`http://127.0.0.1:${port}/`)).ok, 'the server is still serving');
});
