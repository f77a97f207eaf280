// The layers of src/ by import: no cycles, the codec and core depend on nothing above them, the sandbox on no network or host code, fastify only in api/http, and nothing below api/http imports it.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');

interface Import {
  /** The specifier as written. */
  readonly spec: string;
  /** The src-relative .ts file it names, when it is one of ours. */
  readonly target: string | undefined;
  readonly typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Strips comments, so an import quoted in a doc comment is not counted (strings are kept). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

// Static imports and re-exports (`import … from`, `import '…'`, `export … from`) and dynamic `import('…')`, type-level ones included.
const STATIC = /^\s*(import|export)\s+(type\s+)?([^'"]*?\bfrom\s*)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  const text = stripComments(readFileSync(file, 'utf8'));
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean): void => {
    let target: string | undefined;
    // Only code is layered: a type-only import of a JSON file (core/limits.ts reads schemas/limits.json's shape) names no file of ours.
    if (spec.startsWith('.') && spec.endsWith('.js')) target = path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts');
    found.push({ spec, target, typeOnly });
  };
  for (const m of text.matchAll(STATIC)) {
    const spec = m[4];
    // `export const x = …` and the like have no `from`; only `export … from` is an import.
    if (spec === undefined || (m[1] === 'export' && m[3] === undefined)) continue;
    add(spec, m[2] !== undefined);
  }
  for (const m of text.matchAll(DYNAMIC)) {
    const spec = m[1];
    if (spec !== undefined) add(spec, false);
  }
  return found;
}

const graph = new Map<string, Import[]>();
for (const abs of tsFiles(SRC)) graph.set(path.relative(SRC, abs), importsOf(abs));
const under = (file: string, dir: string): boolean => file.startsWith(`${dir}/`);
const isNet = (spec: string): boolean => /^(node:)?(net|child_process)$/.test(spec);
const isFastify = (spec: string): boolean => spec === 'fastify' || spec.startsWith('fastify/') || spec.startsWith('@fastify/');

t.test('the graph is read', async (t) => {
  t.ok(graph.size > 40, `${graph.size} files under src/`);
  const decoder = graph.get('host/http1/request-decoder.ts');
  t.ok(
    decoder?.some((i) => i.target === 'host/http1/head-parser.ts'),
    'request-decoder imports head-parser',
  );
  t.ok(
    graph.get('cli/main.ts')?.some((i) => i.target === 'api/http/app.ts'),
    'dynamic imports are seen',
  );
  for (const [file, imports] of graph) {
    for (const i of imports) {
      if (i.target !== undefined) t.ok(graph.has(i.target), `${file} imports ${i.spec}, a file of ours`);
    }
  }
});

t.test('no import cycle among our files (type-only imports included)', async (t) => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, stack: string[]): void => {
    state.set(file, 'open');
    for (const i of graph.get(file) ?? []) {
      if (i.target === undefined || !graph.has(i.target)) continue;
      const s = state.get(i.target);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(i.target)), file, i.target].join(' → '));
      else if (s === undefined) visit(i.target, [...stack, file]);
    }
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file, []);
  t.same(cycles, [], 'import cycles');
});

/** Every import of a file under `dir` that `bad` rejects, as "file imports spec". */
function offences(dir: string, bad: (i: Import) => boolean): string[] {
  return [...graph].filter(([file]) => under(file, dir)).flatMap(([file, imports]) => imports.filter(bad).map((i) => `src/${file} imports ${i.spec}`));
}

t.test('src/host/http1 imports nothing of ours outside core and http1, and no node:net or node:child_process', async (t) => {
  t.same(
    offences('host/http1', (i) => (i.target !== undefined && !under(i.target, 'core') && !under(i.target, 'host/http1')) || isNet(i.spec)),
    [],
  );
});

t.test('src/sandbox imports no node:net, no fastify, nothing from src/host or src/api', async (t) => {
  t.same(
    offences('sandbox', (i) => isNet(i.spec) || isFastify(i.spec) || (i.target !== undefined && (under(i.target, 'host') || under(i.target, 'api')))),
    [],
  );
});

t.test('src/core imports nothing of ours outside src/core', async (t) => {
  t.same(
    offences('core', (i) => i.target !== undefined && !under(i.target, 'core')),
    [],
  );
});

t.test('only src/api/http imports fastify or @fastify/*', async (t) => {
  const all = [...graph].flatMap(([file, imports]) => imports.filter((i) => isFastify(i.spec) && !under(file, 'api/http')).map((i) => `src/${file} imports ${i.spec}`));
  t.same(all, []);
  t.ok(offences('api/http', (i) => isFastify(i.spec)).length > 0, 'api/http does import fastify');
});

t.test('the layers under src/api/http (control, supervisor, registry) never import it back', async (t) => {
  for (const dir of ['api/control', 'api/supervisor', 'api/registry']) {
    t.same(
      offences(dir, (i) => i.target !== undefined && under(i.target, 'api/http')),
      [],
      `${dir} imports nothing of api/http`,
    );
  }
});
