// Codec micro-benchmark: our HTTP/1.x request decoder (the built dist/) against llhttp (Node's C parser) on the same pipelined bytes.

import { writeResult } from './readme-section.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { DecoderSink } from '../src/host/http1/request-decoder.js';

// The decoder is measured as shipped: the compiled JS in dist/ (`npm run bench:codec` builds first).
// Its types come from src/, which dist/ is built from.
type DecoderModule = typeof import('../src/host/http1/request-decoder.js');
type LimitsModule = typeof import('../src/core/limits.js');
const decoderUrl = new URL('../dist/host/http1/request-decoder.js', import.meta.url).href;
const limitsUrl = new URL('../dist/core/limits.js', import.meta.url).href;
const { RequestDecoder } = (await import(decoderUrl)) as DecoderModule;
const { resolveLimits } = (await import(limitsUrl)) as LimitsModule;

// ---- llhttp, through the binding node:http itself uses (lib/_http_common.js) ----

/** The parts of Node's internal `HTTPParser` binding used here (node/src/node_http_parser.cc). */
interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenientFlags?: number): void;
  /** Bytes parsed, or an Error (with `code`, `reason`, `bytesParsed`) when the input is refused. */
  execute(data: Buffer): number | Error;
  close(): void;
  /** The callbacks live at the numeric keys `HTTPParser.kOn*`. */
  [callback: number]: unknown;
}

interface LlhttpParserClass {
  new (): LlhttpParser;
  readonly REQUEST: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

// `_http_common` is the module node:http loads its parser from; requiring it prints no warning on Node 20.
const httpCommon = createRequire(import.meta.url)('_http_common') as { HTTPParser: LlhttpParserClass; methods: readonly string[] };
const { HTTPParser } = httpCommon;
const llhttpMethods = httpCommon.methods;

// ---- options ----

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    'round-ms': { type: 'string', default: '300' },
    'warmup-ms': { type: 'string', default: '300' },
    pipelined: { type: 'string', default: '100' },
    /** Only the workloads whose name contains this (e.g. for profiling one); bench/README.md is then left alone. */
    only: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer (got ${String(v)})`);
    process.exit(2);
  }
  return n;
}

const ROUNDS = positiveInt('rounds', opts.rounds);
const ROUND_MS = positiveInt('round-ms', opts['round-ms']);
const WARMUP_MS = positiveInt('warmup-ms', opts['warmup-ms']);
const PIPELINED = positiveInt('pipelined', opts.pipelined);

// ---- workloads ----

interface Workload {
  readonly name: string;
  readonly method: string;
  readonly target: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
  /** The decoded body every request must yield. */
  readonly body: Buffer;
  readonly chunked: boolean;
  /** One request. */
  readonly request: Buffer;
  /** PIPELINED copies of `request`, back to back: what one pass feeds to one parser. */
  readonly bytes: Buffer;
}

function workload(name: string, method: string, target: string, fields: Array<readonly [string, string]>, chunks: readonly string[] | null): Workload {
  let text = `${method} ${target} HTTP/1.1\r\n`;
  for (const [n, v] of fields) text += `${n}: ${v}\r\n`;
  text += '\r\n';
  if (chunks !== null) {
    for (const c of chunks) text += `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`;
    text += '0\r\n\r\n';
  }
  const request = Buffer.from(text, 'latin1');
  return {
    name: `${name} (${request.length} B)`,
    method,
    target,
    fields,
    body: Buffer.from((chunks ?? []).join(''), 'latin1'),
    chunked: chunks !== null,
    request,
    bytes: Buffer.concat(Array.from({ length: PIPELINED }, () => request)),
  };
}

/** A JSON body of exactly `size` bytes. */
function jsonBody(size: number): string {
  const items = Array.from({ length: 12 }, (_, i) => ({ id: 1000 + i, sku: `SKU-${(7919 * (i + 1)).toString(36).toUpperCase()}`, qty: (i % 4) + 1, price: 9.99 + i }));
  const base = JSON.stringify({ orderId: 'a4f1c2e8-5b7d-4c1a-9e3f-2d6b8a0c7e51', items, note: '' });
  if (base.length > size) throw new Error(`jsonBody: ${base.length} > ${size}`);
  return base.replace('"note":""', `"note":"${'x'.repeat(size - base.length)}"`);
}

const body = jsonBody(1024);
const WORKLOADS: readonly Workload[] = [
  workload('small GET', 'GET', '/', [['Host', 'localhost']], null),
  workload(
    'GET, 20 browser headers',
    'GET',
    '/products/4711?ref=home&utm_source=newsletter&utm_medium=email',
    [
      ['Host', 'shop.example.com'],
      ['Connection', 'keep-alive'],
      ['Cache-Control', 'max-age=0'],
      ['sec-ch-ua', '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'],
      ['sec-ch-ua-mobile', '?0'],
      ['sec-ch-ua-platform', '"Linux"'],
      ['Upgrade-Insecure-Requests', '1'],
      ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'],
      ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'],
      ['Sec-Fetch-Site', 'same-origin'],
      ['Sec-Fetch-Mode', 'navigate'],
      ['Sec-Fetch-User', '?1'],
      ['Sec-Fetch-Dest', 'document'],
      ['Referer', 'https://shop.example.com/category/books?page=2&sort=price-asc'],
      ['Accept-Encoding', 'gzip, deflate, br, zstd'],
      ['Accept-Language', 'en-US,en;q=0.9,de-DE;q=0.8,de;q=0.7'],
      [
        'Cookie',
        'sessionid=4q8v2n7xk3m9p1r5t6w0y2z4; csrftoken=Jm3kP9xQ2vB7nR4tY8wL1cF6hD0sG5aE; _ga=GA1.1.1234567890.1700000000; _ga_ABC123XYZ=GS1.1.1700000000.3.1.1700000500.0.0.0; theme=dark; cart=3',
      ],
      ['If-None-Match', 'W/"5e1a-18c2f0d9b7e"'],
      ['If-Modified-Since', 'Tue, 14 Nov 2023 08:12:31 GMT'],
      ['Priority', 'u=0, i'],
    ],
    null,
  ),
  workload(
    'chunked POST, 1 KiB in 4 chunks',
    'POST',
    '/upload',
    [
      ['Host', 'localhost'],
      ['Transfer-Encoding', 'chunked'],
      ['Content-Type', 'application/json'],
    ],
    [body.slice(0, 300), body.slice(300, 700), body.slice(700, 900), body.slice(900)],
  ),
];

// ---- the two parsers, behind one shape ----

/** Keeps what the callbacks produce reachable, so no work can be optimised away. */
let blackhole: unknown = null;

/** Counts kept by a parser's callbacks, checked after every round. */
interface Counts {
  requests: number;
  bodyBytes: number;
}

/** One parser set up for one workload. */
interface Contender {
  readonly counts: Counts;
  /** Parses `w.bytes` once with a fresh parser state (a new connection); throws if not all of it is accepted. */
  pass(): void;
  /** Parses `w.bytes` once and returns every request as decoded, for checking. */
  decodeAll(): Decoded[];
}

/** One request as a parser reported it. */
interface Decoded {
  method: string;
  target: string;
  version: string;
  fields: Array<[string, string]>;
  keepAlive: boolean;
  body: Buffer;
}

const limits = resolveLimits(undefined);

function ours(w: Workload): Contender {
  const counts: Counts = { requests: 0, bodyBytes: 0 };
  let record: ((r: Decoded) => void) | null = null;
  let fault: string | null = null;
  // Body bytes arrive as views of the input, kept as they are (as llhttp's kOnBody buffers below).
  let parts: Buffer[] = [];
  let received = 0;
  const sink: DecoderSink = {
    onStart: () => undefined,
    onHead: (head) => {
      blackhole = head;
    },
    onBody: (chunk) => {
      parts.push(chunk);
      received += chunk.length;
    },
    onRequest: (req) => {
      counts.requests++;
      counts.bodyBytes += received;
      if (record !== null) {
        const { head, framing } = req;
        record({ method: head.method, target: head.target, version: head.version, fields: head.fields.map(([n, v]) => [n, v]), keepAlive: framing.keepAlive, body: Buffer.concat(parts) });
      }
      blackhole = parts;
      parts = [];
      received = 0;
      return true;
    },
    onFault: (f) => {
      fault = `${f.code}: ${f.reason}`;
    },
  };
  const pass = (): void => {
    const d = new RequestDecoder(limits, sink);
    const rest = d.push(w.bytes);
    if (fault !== null) throw new Error(`isohttpd refused ${w.name}: ${fault}`);
    if (rest.length !== 0 || d.midRequest || d.finished) throw new Error(`isohttpd did not consume ${w.name} completely`);
  };
  return {
    counts,
    pass,
    decodeAll() {
      const out: Decoded[] = [];
      record = (x) => out.push(x);
      try {
        pass();
      } finally {
        record = null;
      }
      return out;
    },
  };
}

function llhttp(w: Workload): Contender {
  const counts: Counts = { requests: 0, bodyBytes: 0 };
  const parser = new HTTPParser();
  // Set up as node:http's server does (lib/_http_common.js, lib/_http_server.js): strict (no lenient
  // flags), the default header size limit (0: --max-http-header-size, 16 KiB), a resource object for async_hooks.
  const resource = {};
  let record: ((r: Decoded) => void) | null = null;
  // Headers and URL arrive through kOnHeaders only when a head has more than 32 fields or spans executes.
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let head: { method: string; url: string; version: string; headers: string[]; keepAlive: boolean } | null = null;
  let parts: Buffer[] = [];
  let received = 0;
  parser[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
    pendingHeaders.push(...headers);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    versionMajor: number,
    versionMinor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    _statusCode: unknown,
    _statusMessage: unknown,
    _upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number => {
    if (headers === undefined) {
      headers = pendingHeaders;
      pendingHeaders = [];
    }
    if (url === undefined) {
      url = pendingUrl;
      pendingUrl = '';
    }
    head = { method: llhttpMethods[method] ?? '?', url, version: `${versionMajor}.${versionMinor}`, headers, keepAlive: shouldKeepAlive };
    blackhole = head;
    return 0; // 1 would mean "skip the body", 2 "upgrade"
  };
  parser[HTTPParser.kOnBody] = (b: Buffer): void => {
    parts.push(b);
    received += b.length;
  };
  parser[HTTPParser.kOnMessageComplete] = (): void => {
    counts.requests++;
    counts.bodyBytes += received;
    if (record !== null && head !== null) {
      const fields: Array<[string, string]> = [];
      for (let i = 0; i + 1 < head.headers.length; i += 2) fields.push([head.headers[i] ?? '', head.headers[i + 1] ?? '']);
      record({ method: head.method, target: head.url, version: head.version, fields, keepAlive: head.keepAlive, body: Buffer.concat(parts) });
    }
    blackhole = parts;
    parts = [];
    received = 0;
    head = null;
  };
  const pass = (): void => {
    parser.initialize(HTTPParser.REQUEST, resource, 0, HTTPParser.kLenientNone);
    const r = parser.execute(w.bytes);
    if (typeof r !== 'number') throw new Error(`llhttp refused ${w.name}: ${r.message}`);
    if (r !== w.bytes.length || head !== null || received !== 0) throw new Error(`llhttp did not consume ${w.name} completely`);
  };
  return {
    counts,
    pass,
    decodeAll() {
      const out: Decoded[] = [];
      record = (x) => out.push(x);
      try {
        pass();
      } finally {
        record = null;
      }
      return out;
    },
  };
}

// ---- correctness: both parsers must see exactly the requests that were sent ----

function verify(label: string, w: Workload, c: Contender): void {
  const before = { ...c.counts };
  const got = c.decodeAll();
  const problems: string[] = [];
  if (got.length !== PIPELINED) problems.push(`${got.length} requests decoded, ${PIPELINED} sent`);
  if (c.counts.requests - before.requests !== PIPELINED) problems.push(`callbacks counted ${c.counts.requests - before.requests} requests`);
  got.forEach((r, i) => {
    const want = { method: w.method, target: w.target, version: '1.1', fields: w.fields, keepAlive: true };
    if (r.method !== want.method || r.target !== want.target || r.version !== want.version || r.keepAlive !== want.keepAlive) {
      problems.push(`request ${i}: ${r.method} ${r.target} HTTP/${r.version} keepAlive=${String(r.keepAlive)}`);
    }
    if (r.fields.length !== want.fields.length || r.fields.some(([n, v], k) => want.fields[k]?.[0] !== n || want.fields[k]?.[1] !== v)) {
      problems.push(`request ${i}: header fields differ`);
    }
    if (!r.body.equals(w.body)) problems.push(`request ${i}: body differs (${r.body.length} bytes, want ${w.body.length})`);
  });
  if (problems.length > 0) {
    console.error(`${label} decoded "${w.name}" wrongly:\n  ${problems.slice(0, 10).join('\n  ')}`);
    process.exit(1);
  }
}

// ---- timing ----

const collect = (globalThis as { gc?: () => void }).gc;

/** Runs passes for at least `ms`; returns requests per second, after checking every request completed. */
function round(w: Workload, c: Contender, ms: number): number {
  // With --expose-gc (as `npm run bench:codec` runs it), every round starts from a collected heap,
  // so neither parser pays for the other's garbage.
  collect?.();
  const r0 = c.counts.requests;
  const b0 = c.counts.bodyBytes;
  let passes = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    c.pass();
    passes++;
    t = performance.now();
  } while (t - t0 < ms);
  const requests = c.counts.requests - r0;
  if (requests !== passes * PIPELINED || c.counts.bodyBytes - b0 !== requests * w.body.length) {
    console.error(`"${w.name}": ${requests} requests / ${c.counts.bodyBytes - b0} body bytes completed, want ${passes * PIPELINED} / ${passes * PIPELINED * w.body.length}`);
    process.exit(1);
  }
  return (requests * 1000) / (t - t0);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const only = opts.only;
const selected = only === undefined ? WORKLOADS : WORKLOADS.filter((w) => w.name.includes(only));
if (selected.length === 0) {
  console.error(`--only=${String(only)} matches none of: ${WORKLOADS.map((w) => w.name).join('; ')}`);
  process.exit(2);
}
const pairs = selected.map((w) => ({ w, ours: ours(w), llhttp: llhttp(w) }));

for (const { w, ours: o, llhttp: l } of pairs) {
  verify('isohttpd', w, o);
  verify('llhttp', w, l);
}

// Warm up every workload on both before measuring any, so the JIT has seen every path first.
for (const { w, ours: o, llhttp: l } of pairs) {
  round(w, o, WARMUP_MS);
  round(w, l, WARMUP_MS);
}

interface Row {
  workload: string;
  ours: number;
  llhttp: number;
  /** Median of the paired per-round ratios: each isohttpd round against the llhttp round right after it. */
  ratio: number;
  ratios: number[];
  oursRounds: number[];
  llhttpRounds: number[];
}

const rows: Row[] = [];
for (const { w, ours: o, llhttp: l } of pairs) {
  const oursRounds: number[] = [];
  const llhttpRounds: number[] = [];
  // Alternate, so drift (thermal, other load, GC state) hits both alike.
  for (let i = 0; i < ROUNDS; i++) {
    oursRounds.push(round(w, o, ROUND_MS));
    llhttpRounds.push(round(w, l, ROUND_MS));
  }
  // The machine's speed drifts (a shared VM can swing by 2x within seconds, both parsers alike), so
  // the ratio is taken per pair of neighbouring rounds and then the median, not from the two medians.
  const ratios = oursRounds.map((x, i) => x / (llhttpRounds[i] ?? NaN));
  rows.push({ workload: w.name, ours: median(oursRounds), llhttp: median(llhttpRounds), ratio: median(ratios), ratios, oursRounds, llhttpRounds });
}

// The decoded output is checked again after all the timed passes.
for (const { w, ours: o, llhttp: l } of pairs) {
  verify('isohttpd', w, o);
  verify('llhttp', w, l);
}
if (blackhole === null) process.exit(1);

// ---- report ----

const table = [
  '| workload | isohttpd req/s | llhttp req/s | ratio (isohttpd / llhttp) |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.workload} | ${fmt(r.ours)} | ${fmt(r.llhttp)} | ${r.ratio.toFixed(2)} |`),
].join('\n');

const cpus = os.cpus();
const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${os.type()} ${os.release()} ${os.arch()}`;
const runtime = `Node ${process.version} (V8 ${process.versions.v8}, llhttp ${process.versions.llhttp ?? '?'})`;
const date = new Date().toISOString();

console.log(`\n${table}\n`);
console.log(`${machine}; ${runtime}; ${date}`);
console.log(`median of ${ROUNDS} rounds of >= ${ROUND_MS} ms each; ${PIPELINED} pipelined requests per pass. Every round, in thousands of req/s:`);
for (const r of rows) {
  const all = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(0)).join(' ');
  console.log(`  ${r.workload}\n    isohttpd: ${all(r.oursRounds)}\n    llhttp:   ${all(r.llhttpRounds)}\n    ratio:    ${r.ratios.map((x) => x.toFixed(2)).join(' ')}`);
}

const BEGIN = '<!-- codec:begin -->';
const END = '<!-- codec:end -->';
const section = `${BEGIN}
## Codec micro-benchmark

\`bench/codec.bench.ts\` (\`npm run bench:codec\`) compares the HTTP/1.x request decoder as shipped
(\`dist/host/http1/request-decoder.js\`, default limits) with llhttp, the C parser inside Node.js, driven
through the same internal \`HTTPParser\` binding and callbacks node:http uses (strict: no lenient
flags, default 16 KiB header limit). Each workload is one buffer of ${PIPELINED} copies of one request,
pipelined; a pass feeds the whole buffer at once to a fresh parser state (a new \`RequestDecoder\`, or
the \`HTTPParser\` re-initialized as node:http does for each connection). The callbacks keep what a
server needs: ours the head and framing, llhttp's the method, URL and headers array, and both the
body chunks as they arrive (views of the input). Nothing of node:http above the parser
(\`IncomingMessage\`, streams) is counted. Before and after timing, every request of every workload is
checked on both (method, target, version, all header fields, keep-alive, decoded body), and every
timed round must complete exactly the requests fed. After a warm-up of every workload on both, rounds
of at least ${ROUND_MS} ms alternate between the two parsers${collect === undefined ? '' : ' (the heap collected before each)'}.
The table shows the median of ${ROUNDS} rounds in requests per second on one core; the ratio is the median
of the ${ROUNDS} per-round ratios (each isohttpd round against the llhttp round right after it), which
cancels most of the drift in the machine's speed, so it is the column to compare across runs. The
console output lists every round. Options (after \`npm run bench:codec --\`):
\`--rounds\`, \`--round-ms\`, \`--warmup-ms\`, \`--pipelined\`, \`--only=<workload name part>\`, \`--no-readme\`.

- Machine: ${machine}
- Runtime: ${runtime}
- Date: ${date}

${table}
${END}`;

writeResult({
  machine,
  runtime,
  date,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  workloads: rows.map((r) => ({ workload: r.workload, isohttpdReqPerSec: r.ours, llhttpReqPerSec: r.llhttp, ratio: r.ratio })),
});

if (!opts['no-readme'] && only === undefined) {
  const readme = new URL('./README.md', import.meta.url);
  let text: string;
  if (!existsSync(readme)) {
    text = `# Benchmarks\n\nRun with \`npm run bench\` (it builds \`dist/\` first). The sections below are rewritten by the\nbenchmarks that produce them, each between its own markers.\n\n${section}\n`;
  } else {
    const old = readFileSync(readme, 'utf8');
    const a = old.indexOf(BEGIN);
    const b = old.indexOf(END);
    text = a !== -1 && b > a ? old.slice(0, a) + section + old.slice(b + END.length) : `${old.replace(/\n*$/, '\n\n')}${section}\n`;
  }
  writeFileSync(readme, text);
  console.log(`\nupdated ${readme.pathname}`);
}
