// `isohttpd tail ID|NAME`: the query it sends (its filter flags) and how it prints each entry of the API's NDJSON tail.

import { UsageError } from './args.js';
import { printable } from './table.js';

/** The flags of `tail`. */
export const TAIL_OPTIONS = { status: 'value', outcome: 'value', search: 'value', sample: 'value' } as const;

/** The query string of `GET /servers/:id/tail` for the flags given ('' for none). @throws UsageError for a --sample that is not a fraction */
export function tailQuery(options: ReadonlyMap<string, string | true>): string {
  const q = new URLSearchParams();
  for (const name of ['status', 'outcome', 'search'] as const) {
    const v = options.get(name);
    if (typeof v === 'string') q.set(name, v);
  }
  const sample = options.get('sample');
  if (typeof sample === 'string') {
    const n = Number(sample);
    if (!/^(?:0|1)?(?:\.[0-9]+)?$/.test(sample) || sample === '' || !(n > 0 && n <= 1))
      throw new UsageError(`--sample must be a fraction over 0 and at most 1 (0.1: one request in ten), not ${JSON.stringify(sample)}`);
    q.set('sample', sample);
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

interface Log {
  time?: unknown;
  level?: unknown;
  message?: unknown;
}

interface Entry extends Log {
  kind?: unknown;
  dropped?: unknown;
  requestId?: unknown;
  method?: unknown;
  path?: unknown;
  status?: unknown;
  outcome?: unknown;
  durationMs?: unknown;
  bytesIn?: unknown;
  bytesOut?: unknown;
  detail?: unknown;
  stack?: unknown;
  logs?: unknown;
}

/**
 * One tail entry as text. A request: `TIME  STATUS OUTCOME  METHOD PATH  DURATION ms  in N B, out N B  (id ID)`,
 * then its detail, its stack's frames and its console lines, indented. A console line of no request:
 * `TIME  LEVEL  MESSAGE`, with `(request ID)` when it is tied to one whose entry did not come.
 */
export function tailLine(line: string): string {
  const o = JSON.parse(line) as Entry;
  if (typeof o.dropped === 'number') return `-- ${o.dropped} entries dropped here: this reader (or the service) could not keep up --\n`;
  const time = printable(String(o.time));
  if (o.kind !== 'request') {
    const id = typeof o.requestId === 'string' ? `  (request ${printable(o.requestId)})` : '';
    return `${time}  ${printable(String(o.level)).padEnd(5)}  ${printable(String(o.message))}${id}\n`;
  }
  const head = `${time}  ${String(o.status)} ${printable(String(o.outcome))}  ${printable(String(o.method))} ${printable(String(o.path))}  ${String(o.durationMs)} ms  in ${String(o.bytesIn)} B, out ${String(o.bytesOut)} B  (id ${printable(String(o.requestId))})\n`;
  let body = '';
  if (typeof o.detail === 'string') body += `    ${printable(o.detail)}\n`;
  // The stack's first line repeats the detail; its frames follow, those of the tenant's module
  // (isohttpd's own guest frames, `isohttpd/…`, say nothing to the tenant).
  if (typeof o.stack === 'string') {
    for (const l of o.stack.split('\n').slice(1)) if (l.trim() !== '' && !l.includes('(isohttpd/')) body += `      ${printable(l.trim())}\n`;
  }
  for (const l of Array.isArray(o.logs) ? (o.logs as Log[]) : []) body += `    ${printable(String(l.level)).padEnd(5)}  ${printable(String(l.message))}\n`;
  return head + body;
}
