// Every kind of invalid response dict gets 500 with a text body naming the failing field.

import t from 'tap';
import { startService } from './helpers/service.js';

const CASES: Array<[string, string, RegExp]> = [
  ['undefined', 'undefined', /response must be an object, got undefined/],
  ['null', 'null', /response must be an object, got null/],
  ['a string', '"hello"', /response must be an object, got string/],
  ['an array', '[1]', /response must be an object, got an array/],
  ['missing statuscode', '{ version: "1.1", headers: {}, message: "" }', /response\.statuscode is required/],
  ['missing version', '{ statuscode: 200, headers: {}, message: "" }', /response\.version is required/],
  ['missing headers', '{ version: "1.1", statuscode: 200, message: "" }', /response\.headers is required/],
  ['missing message', '{ version: "1.1", statuscode: 200, headers: {} }', /response\.message is required/],
  ['statuscode 99', '{ version: "1.1", statuscode: 99, headers: {}, message: "" }', /response\.statuscode must be >= 100/],
  ['statuscode 600', '{ version: "1.1", statuscode: 600, headers: {}, message: "" }', /response\.statuscode must be <= 599/],
  ['statuscode as a string', '{ version: "1.1", statuscode: "200", headers: {}, message: "" }', /response\.statuscode must be an integer/],
  ['statuscode fractional', '{ version: "1.1", statuscode: 200.5, headers: {}, message: "" }', /response\.statuscode must be an integer/],
  ['version 2.0', '{ version: "2.0", statuscode: 200, headers: {}, message: "" }', /response\.version must be one of "0\.9", "1\.0", "1\.1"/],
  ['statusmsg with CRLF', '{ version: "1.1", statuscode: 200, statusmsg: "OK\\r\\nX: y", headers: {}, message: "" }', /response\.statusmsg must not contain CR, LF/],
  ['statusmsg a number', '{ version: "1.1", statuscode: 200, statusmsg: 5, headers: {}, message: "" }', /response\.statusmsg must be a string/],
  ['headers an array', '{ version: "1.1", statuscode: 200, headers: [], message: "" }', /response\.headers must be an object/],
  ['header name with a space', '{ version: "1.1", statuscode: 200, headers: { "X Bad": "v" }, message: "" }', /response\.headers has an invalid field name "X Bad"/],
  ['header name with a colon', '{ version: "1.1", statuscode: 200, headers: { "X:": "v" }, message: "" }', /invalid field name "X:"/],
  ['header value with LF', '{ version: "1.1", statuscode: 200, headers: { "X-A": "a\\nb" }, message: "" }', /response\.headers\["X-A"\] must not contain CR, LF/],
  ['header value with NUL', '{ version: "1.1", statuscode: 200, headers: { "X-A": "a\\u0000b" }, message: "" }', /must not contain CR, LF, NUL/],
  ['header value an object', '{ version: "1.1", statuscode: 200, headers: { "X-A": {} }, message: "" }', /response\.headers\["X-A"\] must be a string or number/],
  ['header value NaN', '{ version: "1.1", statuscode: 200, headers: { "X-A": NaN }, message: "" }', /must be a string or number/],
  ['header value Infinity', '{ version: "1.1", statuscode: 200, headers: { "X-A": Infinity }, message: "" }', /must be a string or number/],
  ['message a number', '{ version: "1.1", statuscode: 200, headers: {}, message: 5 }', /response\.message must be a string/],
  ['message another typed array', '{ version: "1.1", statuscode: 200, headers: {}, message: new Uint16Array(2) }', /response\.message must be a string/],
  ['an unknown field', '{ version: "1.1", statuscode: 200, headers: {}, message: "", status: 200 }', /response\.status is not an allowed field/],
  ['a BigInt', '{ version: "1.1", statuscode: 200, headers: {}, message: "", n: 1n }', /response could not be serialized: .*BigInt/],
  ['a getter that throws', '{ version: "1.1", statuscode: 200, headers: {}, get message() { throw new Error("nope"); } }', /handler raised: nope|could not be serialized: nope/],
  ['too large', '{ version: "1.1", statuscode: 200, headers: {}, message: "x".repeat(20000) }', /larger than maxResponseBytes \(10240 bytes\)/],
];

t.test('invalid response dicts', async (t) => {
  const svc = await startService(t);
  const source = `const cases = {\n${CASES.map(([, expr], i) => `  '/${i}': () => (${expr}),`).join('\n')}\n};
export default (r) => r.path in cases ? cases[r.path]() : { version: '1.1', statuscode: 200, headers: {}, message: 'valid' };`;
  const { port } = await svc.deploy(source, { maxResponseBytes: 10240 }, undefined, { exposeErrors: true });
  for (const [i, [name, , expected]] of CASES.entries()) {
    const res = await fetch(`http://127.0.0.1:${port}/${i}`);
    t.equal(res.status, 500, name);
    const text = await res.text();
    t.match(text, /^invalid response: |^handler raised: /, name);
    t.match(text, expected, name);
    t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8', name);
  }
  const ok = await fetch(`http://127.0.0.1:${port}/valid`);
  t.equal(await ok.text(), 'valid', 'the server still serves valid responses');
  await new Promise((r) => setTimeout(r, 200));
  t.ok(svc.output().includes('"outcome":"invalidResponse"'), 'invalid responses are logged');
});
