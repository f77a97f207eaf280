// The markdown format of test/http1/*.md (test/http1/README.md): exact bytes from line ends and escapes, settings from meta comments, and a clear error for every mistake.

import t from 'tap';
import { escapeBytes, parseHttpFixtures, unescapeLine } from '../helpers/http1-fixtures.js';

const fence = '```';
const doc = (...lines: string[]): string => lines.join('\n');
const one = (http: string[], log: string[] = ['complete'], pre: string[] = []): string => doc(...pre, '## a case', '', `${fence}http`, ...http, fence, '', `${fence}log`, ...log, fence, '');

t.test('every line of an http block ends with CRLF, unless it ends with a backslash', async (t) => {
  const [c] = parseHttpFixtures('x.md', one(['GET / HTTP/1.1', 'Host: h', '']));
  t.equal(c?.input.toString('latin1'), 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const [d] = parseHttpFixtures('x.md', one(['POST / HTTP/1.1', '', 'ab\\', 'cd\\']));
  t.equal(d?.input.toString('latin1'), 'POST / HTTP/1.1\r\n\r\nabcd', 'continued lines join; the last has no line end');
  const [e] = parseHttpFixtures('x.md', doc('## crlf file', '```http', 'GET /', '```', '```log', 'complete', '```').replaceAll('\n', '\r\n'));
  t.equal(e?.input.toString('latin1'), 'GET /\r\n', 'a file with CRLF line ends reads the same');
});

t.test('escapes', async (t) => {
  t.same(unescapeLine('a\\rb\\nc\\td\\\\e\\x00\\xE9\\x20', 'w'), { text: 'a\rb\nc\td\\e\x00\xe9 ', continued: false });
  t.same(unescapeLine('/\\{ab*3}/\\{x*1}', 'w'), { text: '/ababab/x', continued: false });
  t.same(unescapeLine('x\\\\', 'w'), { text: 'x\\', continued: false }, 'an escaped backslash at the end is no continuation');
  t.same(unescapeLine('x\\', 'w'), { text: 'x', continued: true });
  t.equal(escapeBytes('a\r\n\t\\\x00\xe9 x '), 'a\\r\\n\\t\\\\\\x00\\xe9 x\\x20');
});

t.test('mistakes are errors that name the file and line', async (t) => {
  const bad: Array<[string, string, RegExp]> = [
    ['a trailing space', one(['GET / ']), /x\.md:1 a case: a line ends with a space/],
    ['a literal tab', one(['A:\tb']), /literal character U\+0009/],
    ['a literal non-ASCII character', one(['X: caf\u00e9']), /literal character U\+00e9/],
    ['an unknown escape', one(['a\\q']), /unknown escape \\q/],
    ['\\x with one digit', one(['a\\x0']), /exactly two hex digits/],
    ['a bad repeat', one(['\\{a*0}']), /a repeat is/],
    ['an empty log line', one(['GET /'], ['complete', '']), /a log line is one event/],
    ['no log block', doc('## a', `${fence}http`, 'GET /', fence), /x\.md:1 a: a case needs one http block and one log block/],
    ['a misspelt fence', doc('## a', `${fence}htpp`, 'GET /', fence), /x\.md:2: blocks are/],
    ['two cases of one name', `${one(['GET /'])}${one(['GET /'])}`, /a second case named "a case"/],
    ['a block before any case', doc(`${fence}http`, 'GET /', fence), /x\.md:1: a block before the first ## case/],
    ['an unclosed block', doc('## a', `${fence}http`, 'GET /'), /x\.md:2: block not closed/],
    ['a deeper heading', doc('### a'), /no deeper headings/],
    ['an unknown meta key', one(['GET /'], ['complete'], ['<!-- meta={"typo": 1} -->']), /unknown meta key typo/],
    ['an unknown limit', one(['GET /'], ['complete'], ['<!-- meta={"limits": {"maxBodyByte": 1}} -->']), /maxBodyByte is not a numeric limit/],
    ['a bad type', one(['GET /'], ['complete'], ['<!-- meta={"type": "response"} -->']), /meta type must be/],
    ['a bad parts', one(['GET /'], ['complete'], ['<!-- meta={"parts": 1} -->']), /meta parts must be true or false/],
    ['no case at all', doc('# title'), /no cases/],
  ];
  for (const [what, text, message] of bad) t.throws(() => parseHttpFixtures('x.md', text), { message }, what);
});

t.test('meta: the file sets, a case overrides', async (t) => {
  const text = doc(
    '<!-- meta={"type": "head", "limits": {"maxHeaderFields": 4, "maxBodyBytes": 9}} -->',
    one(['GET /']),
    '## other',
    '<!-- meta={"type": "request", "limits": {"maxBodyBytes": 1}} -->',
    `${fence}http`,
    'GET /',
    fence,
    `${fence}log`,
    'complete',
    fence,
  );
  const [a, b] = parseHttpFixtures('x.md', text);
  t.same(a?.meta, { type: 'head', limits: { maxHeaderFields: 4, maxBodyBytes: 9 }, parts: false });
  t.same(b?.meta, { type: 'request', limits: { maxHeaderFields: 4, maxBodyBytes: 1 }, parts: false });
  t.equal(b?.where, 'test/http1/x.md:12 other');
  const [c] = parseHttpFixtures('x.md', one(['GET /']));
  t.same(c?.meta, { type: 'request', limits: {}, parts: false }, 'by default: the request decoder, default limits, no target parts');
  const [d] = parseHttpFixtures('x.md', one(['GET /'], ['complete'], ['<!-- meta={"parts": true} -->']));
  t.equal(d?.meta.parts, true, 'parts: the target line asked for');
});
