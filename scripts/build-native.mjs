// Build step: compiles the heap guard (src/sandbox/native/heap-guard.cc) with node-gyp against the headers of the Node.js running this script, into dist/sandbox/native/heap-guard.node; skipped when the source, the gyp file and the Node.js version are unchanged.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src', 'sandbox', 'native');
const OUT_DIR = path.join(ROOT, 'dist', 'sandbox', 'native');
const OUT = path.join(OUT_DIR, 'heap-guard.node');
const STAMP = path.join(OUT_DIR, 'heap-guard.stamp');

/** @param {string} message */
function fail(message) {
  process.stderr.write(`build-native: ${message}\n`);
  process.exit(1);
}

// The headers must be those of the exact Node.js the worker runs on (the npm dependency `node`): the
// module links against V8's C++ API, which has no stable ABI. npm's own setting points node-gyp at the
// system Node.js, which may be older.
const platformPkg = `node-${process.platform}-${process.arch}`;
const candidates = [path.resolve(path.dirname(process.execPath), '..'), path.join(ROOT, 'node_modules', 'node', 'node_modules', platformPkg), path.join(ROOT, 'node_modules', platformPkg)];
/** @param {string} dir */
function headerVersion(dir) {
  const file = path.join(dir, 'include', 'node', 'node_version.h');
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const part = (/** @type {string} */ name) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
  return `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`;
}
const nodedir = candidates.find((dir) => headerVersion(dir) === process.versions.node);
if (nodedir === undefined) fail(`no headers for Node.js ${process.versions.node} (looked in ${candidates.join(', ')}); run through npm, which puts the project's Node.js first`);

const digest = createHash('sha256');
for (const f of ['heap-guard.cc', 'binding.gyp']) digest.update(readFileSync(path.join(SRC, f)));
digest.update(process.versions.node);
const stamp = digest.digest('hex');
if (existsSync(OUT) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) {
  process.stdout.write(`heap guard: ${path.relative(ROOT, OUT)} up to date\n`);
  process.exit(0);
}

// npm hands its bundled node-gyp to every script it runs.
const gyp = process.env.npm_config_node_gyp;
if (gyp === undefined || !existsSync(gyp)) fail('node-gyp not found: run through npm (npm run build), which provides its own');
const run = spawnSync(process.execPath, [gyp, 'rebuild', `--directory=${SRC}`, `--nodedir=${nodedir}`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (run.status !== 0) {
  process.stderr.write(run.stdout + run.stderr);
  fail(`node-gyp failed (exit ${run.status}): a C++ compiler, make and python3 are needed (Debian: apt-get install g++ make python3)`);
}
mkdirSync(OUT_DIR, { recursive: true });
copyFileSync(path.join(SRC, 'build', 'Release', 'heap_guard.node'), OUT);
writeFileSync(STAMP, stamp);
process.stdout.write(`heap guard: built ${path.relative(ROOT, OUT)} for Node.js ${process.versions.node}\n`);
