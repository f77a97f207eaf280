// GET /metrics: strict Prometheus text exposition format (checked by a small parser here), with counts matching the requests made.

import t from 'tap';
import { freePort, startService, type Service } from './helpers/service.js';
import { exchange } from './helpers/raw-http.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(raw: string, line: number): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new Error(`line ${line}: bad value ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `{a="x",b="y\"z"}` → labels; label values unescaped (\\, \", \n only). */
function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without =`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape \\${String(e)}`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new Error(`line ${line}: raw newline in a label value`);
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (i === text.length) break;
    if (text[i] !== ',') throw new Error(`line ${line}: expected , between labels`);
    i++;
  }
  return labels;
}

/** Parses the whole exposition strictly; throws on the first violation. */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | null = null;
  const family = (name: string): Family => {
    if (closed.has(name)) throw new Error(`${name}: lines of a metric not grouped together`);
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    if (current !== null && current !== f) closed.add(current.name);
    current = f;
    return f;
  };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    if (raw === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      const f = family(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type ${rest}`);
        if (f.samples.length > 0 || f.type !== 'untyped') throw new Error(`line ${n}: TYPE after samples or twice`);
        f.type = rest;
      } else {
        if (f.help !== '') throw new Error(`line ${n}: HELP twice`);
        // Only \\ and \n are escapes in HELP: every backslash must start one.
        if (rest.replace(/\\[\\n]/g, '').includes('\\')) throw new Error(`line ${n}: bad escape in HELP`);
        f.help = rest.replace(/\\([\\n])/g, (_m, e: string) => (e === 'n' ? '\n' : '\\'));
      }
      return;
    }
    if (raw.startsWith('#')) return;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (m === null) throw new Error(`line ${n}: not a sample: ${JSON.stringify(raw)}`);
    const [, name = '', labelText = '', value = ''] = m;
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const f = family(families.has(base) ? base : name);
    if (f.name !== name && !(f.type === 'histogram' || f.type === 'summary')) throw new Error(`line ${n}: ${name} has a suffix its type does not allow`);
    f.samples.push({ name, labels: parseLabels(labelText, n), value: parseValue(value, n) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const key = (l: Record<string, string>): string =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  const series = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const k = key(s.labels);
    const e = series.get(k) ?? { buckets: [] };
    series.set(k, e);
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels['le'];
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      e.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_sum`) e.sum = s.value;
    else if (s.name === `${f.name}_count`) e.count = s.value;
    else throw new Error(`${f.name}: unexpected sample ${s.name}`);
  }
  for (const [k, e] of series) {
    if (e.sum === undefined || e.count === undefined) throw new Error(`${f.name}${k}: _sum or _count missing`);
    e.buckets.forEach(([le, v], i) => {
      const prev = e.buckets[i - 1];
      if (prev !== undefined && !(le > prev[0])) throw new Error(`${f.name}${k}: le not ascending at ${le}`);
      if (prev !== undefined && v < prev[1]) throw new Error(`${f.name}${k}: buckets not cumulative at le=${le}`);
    });
    const last = e.buckets[e.buckets.length - 1];
    if (last?.[0] !== Infinity) throw new Error(`${f.name}${k}: no +Inf bucket`);
    if (last[1] !== e.count) throw new Error(`${f.name}${k}: +Inf bucket ${last[1]} is not _count ${e.count}`);
  }
}

function value(families: Map<string, Family>, family: string, sample: string, labels: Record<string, string>): number | undefined {
  return families.get(family)?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

t.test('the parser is strict', async (t) => {
  const ok = '# HELP a_total x \\\\ y\\n\n# TYPE a_total counter\na_total{l="q\\"\\\\\\n"} 3\n\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n';
  const fams = parseExposition(ok);
  t.equal(fams.get('a_total')?.samples[0]?.labels['l'], 'q"\\\n', 'label escapes');
  t.equal(fams.get('a_total')?.help, 'x \\ y\n', 'help escapes');
  const bad: Array<[string, string]> = [
    ['a 1', 'no final newline'],
    ['a{l="x} 1\n', 'unterminated label value'],
    ['a{l="\\t"} 1\n', 'bad escape'],
    ['a{l=x} 1\n', 'unquoted label value'],
    ['a{1l="x"} 1\n', 'bad label name'],
    ['a one\n', 'bad value'],
    ['# HELP a x \\t\na 1\n', 'bad escape in HELP'],
    ['a 1\n# TYPE a counter\n', 'TYPE after samples'],
    ['a 1\nb 1\na 2\n', 'samples not grouped'],
    ['# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', 'le not ascending'],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', 'not cumulative'],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', 'no +Inf'],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n', '+Inf is not _count'],
    ['# TYPE c counter\nc_bucket 1\n', 'suffix on a counter'],
  ];
  for (const [text, why] of bad) t.throws(() => parseExposition(text), `refused: ${why}`);
});

async function hit(port: number, path: string): Promise<void> {
  await exchange(port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, { idleMs: 10_000 });
}

async function settled(svc: Service, httpdid: number, requests: number): Promise<any> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = (await svc.api('GET', `/servers/${httpdid}`)).body.stats;
    if ((s.requests === requests && s.heapUsedBytes > 0) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('metrics after some requests', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  const a = await svc.deploy("export default (r) => { if (r.path === '/boom') throw new Error('boom'); return { version: '1.1', statuscode: 200, headers: {}, message: 'a' }; }");
  const bPort = await freePort();
  const b = (await svc.api('POST', '/servers', { host: '127.0.0.1', port: bPort, replicas: 2, source: "export default () => ({ version: '1.1', statuscode: 200, headers: {}, message: 'b' })" }))
    .body as { httpdid: number };
  for (let i = 0; i < 5; i++) await hit(a.port, '/');
  for (let i = 0; i < 2; i++) await hit(a.port, '/boom');
  for (let i = 0; i < 3; i++) await hit(bPort, '/');
  const sa = await settled(svc, a.httpdid, 7);
  const sb = await settled(svc, b.httpdid, 3);

  const res = await fetch(`${svc.url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  let fams = new Map<string, Family>();
  t.doesNotThrow(() => {
    fams = parseExposition(text);
  }, 'parses as the Prometheus text format');

  const A = String(a.httpdid);
  const B = String(b.httpdid);
  t.equal(fams.get('isohttpd_requests_total')?.type, 'counter');
  t.equal(value(fams, 'isohttpd_requests_total', 'isohttpd_requests_total', { httpdid: A, outcome: 'ok' }), 5);
  t.equal(value(fams, 'isohttpd_requests_total', 'isohttpd_requests_total', { httpdid: A, tenant: 'default', outcome: 'ok' }), 5, 'labelled with the owning tenant');
  t.equal(value(fams, 'isohttpd_requests_total', 'isohttpd_requests_total', { httpdid: A, outcome: 'exception' }), 2);
  t.equal(value(fams, 'isohttpd_requests_total', 'isohttpd_requests_total', { httpdid: A, outcome: 'timeout' }), 0);
  t.equal(value(fams, 'isohttpd_requests_total', 'isohttpd_requests_total', { httpdid: B, outcome: 'ok' }), 3, 'both replicas of B counted');

  const d = 'isohttpd_request_duration_seconds';
  t.equal(fams.get(d)?.type, 'histogram');
  t.equal(value(fams, d, `${d}_count`, { httpdid: A }), 7);
  t.equal(value(fams, d, `${d}_bucket`, { httpdid: A, le: '+Inf' }), 7);
  t.equal(value(fams, d, `${d}_count`, { httpdid: B }), 3);
  t.ok((value(fams, d, `${d}_sum`, { httpdid: A }) ?? 0) > 0, 'a positive sum of seconds');
  t.equal(fams.get(d)?.samples.filter((s) => s.name === `${d}_bucket` && s.labels['httpdid'] === A).length, 37, '36 bounds and +Inf');

  t.equal(value(fams, 'isohttpd_bytes_received_total', 'isohttpd_bytes_received_total', { httpdid: A }), sa.bytesIn, 'bytes in as in the server view');
  t.equal(value(fams, 'isohttpd_bytes_sent_total', 'isohttpd_bytes_sent_total', { httpdid: A }), sa.bytesOut, 'bytes out as in the server view');
  t.ok((value(fams, 'isohttpd_bytes_sent_total', 'isohttpd_bytes_sent_total', { httpdid: B }) ?? 0) >= sb.bytesOut);
  t.equal(fams.get('isohttpd_isolate_heap_bytes')?.type, 'gauge');
  t.ok((value(fams, 'isohttpd_isolate_heap_bytes', 'isohttpd_isolate_heap_bytes', { httpdid: B }) ?? 0) > 0, 'heap of B');
  t.equal(value(fams, 'isohttpd_worker_restarts_total', 'isohttpd_worker_restarts_total', { httpdid: A }), 0);
  t.equal(value(fams, 'isohttpd_workers_up', 'isohttpd_workers_up', {}), 2);
  t.equal(value(fams, 'isohttpd_servers', 'isohttpd_servers', { state: 'running' }), 2);
  t.equal(value(fams, 'isohttpd_servers', 'isohttpd_servers', { state: 'failed' }), 0);

  // A deleted server's series go away.
  t.equal((await svc.api('DELETE', `/servers/${a.httpdid}`)).status, 204);
  const after = parseExposition(await (await fetch(`${svc.url}/metrics`)).text());
  t.notOk(
    after.get('isohttpd_requests_total')?.samples.some((s) => s.labels['httpdid'] === A),
    'no series for a deleted server',
  );
  t.equal(value(after, 'isohttpd_servers', 'isohttpd_servers', { state: 'running' }), 1);
});
