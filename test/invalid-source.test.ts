// 422 for handler sources that cannot be served, with line and column where there is one.

import t from 'tap';
import { freePort, startService } from './helpers/service.js';

t.test('unusable handler sources', async (t) => {
  const svc = await startService(t);
  const port = await freePort();
  const cases: Array<[string, string, RegExp]> = [
    ['syntax error', 'export default function h() {\n  return 1 +;\n}\n', /^SyntaxError: .* at line 2, column \d+$/],
    ['no default export', 'export function handler() {}', /no default export/],
    ['default export neither form', 'export default { statuscode: 200 }', /default export must be a function or an object with a fetch method, got an object without a fetch method/],
    ['default export a number', 'export default 5', /default export must be a function or an object with a fetch method, got number/],
    ['CommonJS module', 'module.exports = function () {}', /module evaluation failed: ReferenceError: module is not defined/],
    ['an import', "import fs from 'node:fs';\nexport default () => fs;", /imports are not available to handlers \(import of "node:fs"\)/],
    ['a dynamic import of a host module at top level', "await import('node:fs');\nexport default () => 1;", /module evaluation failed/],
    ['a throw at top level', "throw new Error('nope');\nexport default () => 1;", /module evaluation failed: Error: nope/],
    ['a loop at top level', 'for (;;) {}\nexport default () => 1;', /module evaluation exceeded the time limit/],
  ];
  for (const [name, source, message] of cases) {
    const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source, limits: { timeoutMs: 200 } });
    t.equal(r.status, 422, name);
    t.equal(r.body.error.code, 'ISO_ERR_API_INVALID_SOURCE', name);
    t.match(r.body.error.message, message, name);
  }
  t.same((await svc.api('GET', '/servers')).body, { servers: [] }, 'nothing was created');
  const ok = await svc.api('POST', '/servers', { host: '127.0.0.1', port, source: 'export default async function (r) { return { version: "1.1", statuscode: 200, headers: {}, message: "ok" }; }' });
  t.equal(ok.status, 201, 'the port was released after each 422');
});
