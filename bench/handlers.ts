// The handlers and bodies the benchmarks share: the same functions run sandboxed in isohttpd, unsandboxed under node:http and in workerd.

/** Hello world: a constant text response. */
export const HELLO = "export default function handler(request) { return { version: '1.1', statuscode: 200, headers: { 'content-type': 'text/plain' }, message: 'hello world' }; }";
/** Echo: the request body as the response. */
export const ECHO = "export default function handler(request) { return { version: '1.1', statuscode: 200, headers: { 'content-type': 'application/json' }, message: request.datastream.text() }; }";
const BODY_ITEMS = { items: Array.from({ length: 40 }, (_, i) => ({ id: i, name: `item-${i}` })), pad: '' };
/** A JSON document of exactly 4096 bytes. */
export const JSON_4K = JSON.stringify({ ...BODY_ITEMS, pad: 'x'.repeat(4096 - JSON.stringify(BODY_ITEMS).length) });
/** A streamed 1 MiB response: a generator of 16 chunks of 64 KiB (one buffer, made once per isolate), sent chunked. */
export const STREAM_1M =
  "const chunk = new Uint8Array(65536).fill(120); export default function handler(request) { return { version: '1.1', statuscode: 200, headers: { 'content-type': 'application/octet-stream' }, message: (function* () { for (let i = 0; i < 16; i++) yield chunk; })() }; }";
/** Fetch from a local upstream (`port` on 127.0.0.1) and answer its text: the same function runs under node:http, with Node's own global fetch. */
export const FETCH_UPSTREAM = (port: number): string =>
  `export default async function handler(request) { const r = await fetch('http://127.0.0.1:${port}/'); return { version: '1.1', statuscode: 200, headers: { 'content-type': 'text/plain' }, message: await r.text() }; }`;
/** A handler whose isolate is the bottleneck: a fixed computation of about a millisecond per request. */
export const BUSY =
  "export default function handler(request) { let n = 0; for (let i = 0; i < 40000; i++) n = (n + i * i) % 1000003; return { version: '1.1', statuscode: 200, headers: { 'content-type': 'text/plain' }, message: String(n) }; }";
