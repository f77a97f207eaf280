// The guest modules as files: every one listed, each with its header and `// @ts-check`, copied byte for byte into dist/, linked by the specifiers its source uses; the constants module the host builds.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ivm from 'isolated-vm';
import t from 'tap';
import { GuestLinker } from '../../src/sandbox/guest-linker.js';
import { BOOTSTRAP, constantsSource, GUEST_PATHS, guestFilename, guestSource, MAX_LINE_CHARS, MAX_PENDING_LINES, PRELUDE, resolveGuest } from '../../src/sandbox/guest-source.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SRC = path.join(ROOT, 'src', 'sandbox', 'guest');
const DIST = path.join(ROOT, 'dist', 'sandbox', 'guest');
const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();

t.test('every guest file is listed, and only those', async (t) => {
  t.same(jsFiles(SRC), [...GUEST_PATHS].sort());
  t.equal(PRELUDE, 'prelude/index.js');
  t.equal(BOOTSTRAP, 'bootstrap.js');
});

t.test('each has its header line, then // @ts-check', async (t) => {
  for (const p of GUEST_PATHS) {
    const [header, check] = guestSource(p).split('\n');
    t.match(header, /^\/\/ [A-Z`].{20,}[.)]$/, `${p}: a header line`);
    t.equal(check, '// @ts-check', `${p}: checked by tsc`);
  }
});

t.test('each module is read as the file is (the prelude then joined into one, test/sandbox/guest-bundle.test.ts), and the build copies it byte for byte', async (t) => {
  t.same(jsFiles(DIST), jsFiles(SRC), 'dist/sandbox/guest holds the same files (run npm run build first)');
  for (const p of GUEST_PATHS) {
    const text = readFileSync(path.join(SRC, p), 'utf8');
    t.equal(guestSource(p), text, `${p}: the source text`);
    t.ok(readFileSync(path.join(DIST, p)).equals(Buffer.from(text)), `${p}: dist copy identical`);
  }
});

t.test('specifiers resolve like relative URLs, inside the guest folder only', async (t) => {
  t.equal(resolveGuest('./console.js', 'prelude/index.js'), 'prelude/console.js');
  t.equal(resolveGuest('./prelude/index.js', 'bootstrap.js'), 'prelude/index.js');
  t.equal(resolveGuest('../bootstrap.js', 'prelude/url.js'), 'bootstrap.js');
  t.equal(resolveGuest('./prelude/array-fill.js', undefined), 'prelude/array-fill.js', 'from outside: the guest root');
  t.equal(resolveGuest('isohttpd:constants', 'bootstrap.js'), 'isohttpd:constants');
  for (const spec of ['tenant', 'prelude', './nope.js', '../../x.js', '../guest-source.ts', 'node:fs']) t.equal(resolveGuest(spec, 'prelude/index.js'), null, `${spec}: nothing`);
  t.equal(guestFilename('prelude/url.js'), 'isohttpd/prelude/url.js', 'stack frames name no host path');
  t.equal(guestFilename('isohttpd:constants'), 'isohttpd/constants.js');
});

t.test('the constants module', async (t) => {
  t.equal(
    constantsSource({ maxResponseBytes: 1048576.7, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536, memoryMb: 32 }),
    `// The constants the host gives the guest modules (src/sandbox/guest-source.ts).\nexport const MAX_PENDING_LINES = ${MAX_PENDING_LINES};\nexport const MAX_LINE_CHARS = ${MAX_LINE_CHARS};\nexport const MAX_RESPONSE_BYTES = 1048576;\nexport const MAX_RESPONSE_HEADER_FIELDS = 100;\nexport const MAX_RESPONSE_HEADER_BYTES = 65536;\nexport const MEMORY_BUDGET_BYTES = 33554432;\n`,
  );
});

t.test('the linker: one module per path per isolate, nothing outside the guest folder', async (t) => {
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  t.teardown(() => isolate.dispose());
  const linker = new GuestLinker(isolate, { maxResponseBytes: 1000, maxResponseHeaderFields: 100, maxResponseHeaderBytes: 65536, memoryMb: 32 });
  const prelude = await linker.module(PRELUDE);
  t.equal(await linker.module(PRELUDE), prelude, 'compiled once');
  await t.rejects(linker.resolve('tenant', prelude), { message: 'no guest module "tenant"' });
  t.equal(await linker.resolve('./console.js', prelude), await linker.module('prelude/console.js'));
  const context = await isolate.createContext();
  await prelude.instantiate(context, linker.resolve);
  await prelude.evaluate({ timeout: 1000 });
  t.equal(await linker.resolve('isohttpd:constants', await linker.module(BOOTSTRAP)), await linker.module('isohttpd:constants'), 'one constants module for all');
});
