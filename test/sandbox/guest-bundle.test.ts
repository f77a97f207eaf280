// The prelude joined into one module (src/sandbox/guest-bundle.ts): every line of every module kept as it is, in evaluation order, each module in a scope of its own; syntax it cannot read and import cycles refused.

import t from 'tap';
import { bundleGuest } from '../../src/sandbox/guest-bundle.js';
import { type GuestPath, guestSource, PRELUDE } from '../../src/sandbox/guest-source.js';
import { loadGuest } from '../helpers/guest.js';

const IMPORT_OR_EXPORT_LIST = /^(import \{[^}]*\} from '[^']+';|export \{[^}]*\};)$/;

t.test('every line of each prelude module is in the bundle, in order, apart from import lines, export lists and export keywords', async (t) => {
  const bundle = bundleGuest(PRELUDE).split('\n');
  // ES module evaluation order: dependencies first, in import order.
  const order = [...bundle.join('\n').matchAll(/^\/\/ ---- (\S+)$/gm)].map((m) => m[1]);
  t.same(order, [
    'prelude/array-fill.js',
    'prelude/base64.js',
    'prelude/console.js',
    'prelude/intrinsics.js',
    'prelude/containment.js',
    'prelude/encoding.js',
    'prelude/streams.js',
    'prelude/url-search-params.js',
    'prelude/url.js',
    'prelude/fetch-api.js',
    'prelude/outbound-fetch.js',
    'prelude/regexp-source.js',
    'prelude/timers.js',
    'prelude/index.js',
  ]);
  for (const p of order as GuestPath[]) {
    const start = bundle.indexOf(`// ---- ${p}`);
    const expected = guestSource(p)
      .split('\n')
      .map((l) => (IMPORT_OR_EXPORT_LIST.test(l) ? '' : l.replace(/^export /, '')));
    const section = bundle.slice(start + 2).filter((l) => !l.startsWith('const {') || expected.includes(l));
    t.same(section.slice(0, expected.length), expected, `${p}: its lines, as they are`);
  }
  t.match(bundle[0], /^import \* as \$constants from 'isohttpd:constants';$/, 'the constants stay a real import');
});

t.test('in an isolate: the bundle exports what index.js exports, and module scopes stay apart', async (t) => {
  // Guest paths with texts of the test's own (the bundler resolves only guest paths).
  const sources: Record<string, string> = {
    'prelude/index.js': "import { a } from './base64.js';\nimport { b as bee } from './console.js';\nconst x = 'index';\nexport const both = () => [a(), bee(), x];\nexport { a };",
    'prelude/base64.js': "const x = 'a';\nexport function a() {\n  return x;\n}",
    'prelude/console.js': "import { a } from './base64.js';\nconst x = 'b';\nexport const b = () => x + a();",
  };
  const bundle = bundleGuest(PRELUDE, (p) => sources[p] ?? '');
  const g = await loadGuest(t, 'export const dummy = 1;');
  const mod = await g.isolate.compileModule(bundle.replace("import * as $constants from 'isohttpd:constants';", 'const $constants = {};'));
  await mod.instantiate(g.context, () => {
    throw new Error('no imports');
  });
  await mod.evaluate();
  const ns = mod.namespace;
  t.same(await ns.get('both', { reference: true }).then((f) => f.apply(undefined, [], { result: { copy: true } })), ['a', 'ba', 'index']);
  t.equal(await ns.get('a', { reference: true }).then((f) => f.apply(undefined, [], { result: { copy: true } })), 'a');
});

t.test('refused: syntax it does not read, imports of no guest module, cycles', async (t) => {
  const refuse = (sources: Record<string, string>, why: RegExp, what: string): void => {
    t.throws(() => bundleGuest(PRELUDE, (p) => sources[p] ?? ''), why, what);
  };
  refuse({ 'prelude/index.js': 'export default 1;' }, /does not read/, 'a default export');
  refuse({ 'prelude/index.js': "import * as a from './base64.js';" }, /does not read/, 'a namespace import');
  refuse({ 'prelude/index.js': "import {\n  a,\n} from './base64.js';" }, /does not read/, 'a multi-line import');
  refuse({ 'prelude/index.js': "import { a } from 'node:fs';" }, /no guest module/, 'an import of no guest module');
  refuse({ 'prelude/index.js': "import { a } from './base64.js';", 'prelude/base64.js': "import { b } from './index.js';\nexport const a = 1;" }, /cycle/, 'an import cycle');
});
