// Head-parser cases of test/http1/*.md ("type": "head": request line, header fields, limits), each fed whole, byte by byte and split at every position.

import t from 'tap';
import { ERRORS } from '../../src/core/errors.js';
import { type Limits, resolveLimits } from '../../src/core/limits.js';
import { HeadParser, type HeadResult } from '../../src/host/http1/head-parser.js';
import { escapeBytes, loadHttpFixtures, targetLine } from '../helpers/http1-fixtures.js';
import { splits } from '../helpers/split.js';

/** What the head parser reports for `chunks`, as the log lines of test/http1/README.md. */
function headLog(chunks: Buffer[], limits: Limits, parts: boolean): string[] {
  const p = new HeadParser(limits);
  let last: HeadResult = { kind: 'more' };
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (last.kind === 'head') {
      rest.push(c);
      continue;
    }
    if (last.kind === 'fault') break;
    last = p.push(c);
    if (last.kind === 'head') rest.push(last.rest);
  }
  if (last.kind === 'fault') return [`fault ${ERRORS[last.fault.code].status} ${last.fault.code}`];
  if (last.kind === 'more') return [];
  const h = last.head;
  const log = [`head ${h.method} ${h.target} HTTP/${h.version}`];
  if (parts) log.push(targetLine(h));
  for (const [name, value] of h.fields) log.push(value === '' ? `field ${name}:` : `field ${name}: ${value}`);
  const r = Buffer.concat(rest).toString('latin1');
  if (r !== '') log.push(`rest ${r}`);
  return log;
}

const cases = loadHttpFixtures().filter((c) => c.meta.type === 'head');

t.test('the head cases are read', async (t) => {
  t.ok(cases.length >= 40, `${cases.length} cases`);
});

for (const c of cases) {
  t.test(c.where, async (t) => {
    const limits = resolveLimits(c.meta.limits);
    const input = escapeBytes(c.input.toString('latin1'));
    for (const [how, chunks] of splits(c.input)) t.same(headLog(chunks, limits, c.meta.parts), c.log, how, { input });
  });
}

t.test('reset lets the parser take the next request', async (t) => {
  const p = new HeadParser(resolveLimits(undefined));
  const a = p.push(Buffer.from('GET /a HTTP/1.1\r\n\r\n'));
  t.equal(a.kind, 'head');
  p.reset();
  t.equal(p.started, false);
  const b = p.push(Buffer.from('GET /b HTTP/1.1\r\n\r\n'));
  t.equal(b.kind === 'head' ? b.head.target : '', '/b');
});
