// The prelude's guest modules joined into one module source, once per process, so that each isolate compiles and links one module for the prelude instead of nine (each compile is a round trip to the isolate's thread: instantiating the prelude took 1.9 ms of an isolate's ~6.5 ms, 1.1 ms joined).

import { CONSTANTS_SPECIFIER, type GuestPath, guestSource, resolveGuest } from './guest-source.js';

/** One guest module's import line: `import { a, b as c } from '<specifier>';`. */
const IMPORT = /^import \{([^}]*)\} from '([^']+)';$/;
/** A declaration exported where it is made: `export function f`, `export const x`, `export class C`, ... */
const EXPORT_DECLARATION = /^export ((?:async )?function\*? ?|const |let |class )([A-Za-z_$][\w$]*)/;
/** An export list: `export { a, b as c };`. */
const EXPORT_LIST = /^export \{([^}]*)\};$/;

/** `a, b as c` → `[['a', 'a'], ['b', 'c']]` (name in the module that has it, name seen outside). */
function names(list: string): Array<[string, string]> {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^([A-Za-z_$][\w$]*)(?: as ([A-Za-z_$][\w$]*))?$/.exec(s);
      if (m?.[1] === undefined) throw new Error(`guest bundle: cannot read the import or export name ${JSON.stringify(s)}`);
      return [m[1], m[2] ?? m[1]];
    });
}

interface Parsed {
  /** The body with its import lines removed and its `export` keywords and export lists taken out; every other line as it is. */
  readonly body: string[];
  readonly imports: Array<{ readonly from: GuestPath | typeof CONSTANTS_SPECIFIER; readonly names: Array<[string, string]> }>;
  /** Exported name → local name. */
  readonly exports: Array<[string, string]>;
}

function parse(p: GuestPath, source: (p: GuestPath) => string): Parsed {
  const body: string[] = [];
  const imports: Parsed['imports'] = [];
  const exports: Array<[string, string]> = [];
  for (const line of source(p).split('\n')) {
    const imp = IMPORT.exec(line);
    const decl = EXPORT_DECLARATION.exec(line);
    const list = EXPORT_LIST.exec(line);
    if (imp?.[1] !== undefined && imp[2] !== undefined) {
      const from = resolveGuest(imp[2], p);
      if (from === null) throw new Error(`guest bundle: ${p} imports ${imp[2]}, which is no guest module`);
      imports.push({ from, names: names(imp[1]) });
      body.push('');
    } else if (decl?.[2] !== undefined) {
      exports.push([decl[2], decl[2]]);
      body.push(line.slice('export '.length));
    } else if (list?.[1] !== undefined) {
      for (const [local, exported] of names(list[1])) exports.push([exported, local]);
      body.push('');
    } else if (/^(import|export)\b/.test(line)) {
      throw new Error(`guest bundle: ${p} has an import or export this bundler does not read: ${line}`);
    } else {
      body.push(line);
    }
  }
  return { body, imports, exports };
}

/**
 * The module graph from `entry` as one module source. Each module's text is kept line for line
 * inside a function of its own (its scope), run in the order ES modules evaluate (dependencies
 * first, in import order), returning its exports; its imports become reads of those. `entry`'s
 * exports are the bundle's, and `isohttpd:constants` stays a real import. The guest modules'
 * syntax is held to what this reads (one-line `import { ... } from '...'`, `export` before a
 * declaration at the start of a line, `export { ... };`); anything else is refused here, at
 * start-up. An export's value is the one it has when its module's body has run (each guest module
 * assigns its exports while it evaluates), not a live binding.
 * @param source a guest module's text (default: the file's, {@link guestSource})
 * @throws Error for a module this bundler cannot read, or an import cycle
 */
export function bundleGuest(entry: GuestPath, source: (p: GuestPath) => string = guestSource): string {
  const order: GuestPath[] = [];
  const parsed = new Map<GuestPath, Parsed>();
  const visiting = new Set<GuestPath>();
  const visit = (p: GuestPath): void => {
    if (parsed.has(p)) return;
    if (visiting.has(p)) throw new Error(`guest bundle: import cycle through ${p}`);
    visiting.add(p);
    const m = parse(p, source);
    for (const i of m.imports) if (i.from !== CONSTANTS_SPECIFIER) visit(i.from);
    visiting.delete(p);
    parsed.set(p, m);
    order.push(p);
  };
  visit(entry);
  const ref = (p: GuestPath): string => `$guest${order.indexOf(p)}`;
  const out = [`import * as $constants from '${CONSTANTS_SPECIFIER}';`];
  for (const p of order) {
    const m = parsed.get(p) as Parsed;
    out.push(`// ---- ${p}`, `const ${ref(p)} = (() => {`);
    for (const i of m.imports) {
      const from = i.from === CONSTANTS_SPECIFIER ? '$constants' : ref(i.from);
      out.push(`const { ${i.names.map(([theirs, ours]) => (theirs === ours ? theirs : `${theirs}: ${ours}`)).join(', ')} } = ${from};`);
    }
    out.push(...m.body, `return Object.freeze({ __proto__: null, ${m.exports.map(([exported, local]) => (exported === local ? local : `${exported}: ${local}`)).join(', ')} });`, '})();');
  }
  const exported = (parsed.get(entry) as Parsed).exports.map(([name]) => name);
  out.push(`export const { ${exported.join(', ')} } = ${ref(entry)};`, '');
  return out.join('\n');
}
