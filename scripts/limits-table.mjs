// Writes the tables of per-server limits in the docs from schemas/limits.json (the one declaration), between `<!-- limits-table … -->` markers; `--check` only reports tables that differ.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The docs that hold a limits table, relative to the repository root. */
const DOCS = ['README.md', 'docs/http-codec.md'];

// `<!-- limits-table: all -->` or `<!-- limits-table: nameA nameB … -->`, the table, `<!-- /limits-table -->`.
const BLOCK = /(<!-- limits-table: ([^>]*?) -->\n)[\s\S]*?(<!-- \/limits-table -->)/g;

const KIB = 1024;
const MIB = 1024 * 1024;

/** The unit of a limit, from its name (the schema's description says it in words; test/limits-schema.test.ts checks they agree). */
function unitOf(name, prop) {
  if (name.endsWith('Mb')) return 'MiB';
  if (name.endsWith('Ms')) return 'ms';
  if (name.endsWith('Bytes')) return 'bytes';
  if (prop.type === 'number') return 'fraction';
  // A count: the last word of its name (maxHeaderFields: fields).
  return (/[A-Z][a-z]+$/.exec(name)?.[0] ?? name).toLowerCase();
}

/** A range end as a reader wants it: sizes in KiB or MiB when exact, else in bytes. */
function human(n, unit) {
  if (unit !== 'bytes' || n === 0) return String(n);
  if (n % MIB === 0) return `${n / MIB} MiB`;
  if (n % KIB === 0) return `${n / KIB} KiB`;
  return `${n} bytes`;
}

/**
 * The markdown table of the limits named (all of them for `all`), in the schema's order.
 * @param {{ properties: Record<string, { type: string, minimum: number, maximum: number, default: number, description: string }> }} schema
 * @param {string} which `all`, or limit names separated by spaces
 * @returns {string}
 */
export function limitsTable(schema, which) {
  const all = Object.keys(schema.properties);
  const names = which.trim() === 'all' ? all : which.trim().split(/\s+/);
  for (const n of names) if (!all.includes(n)) throw new Error(`limits-table: ${n} is not a limit of schemas/limits.json`);
  const rows = all
    .filter((n) => names.includes(n))
    .map((name) => {
      const p = schema.properties[name];
      const unit = unitOf(name, p);
      const text = p.description.replace(/\|/g, '\\|');
      return `| \`${name}\` | ${p.default} | ${human(p.minimum, unit)}–${human(p.maximum, unit)} | ${unit} | ${text} |`;
    });
  return ['| limit | default | range | unit | meaning |', '| --- | --- | --- | --- | --- |', ...rows, ''].join('\n');
}

/** `text` with every limits table regenerated from `schema`. */
export function renderLimitsTables(text, schema) {
  return text.replace(BLOCK, (_, open, which, close) => `${open}${limitsTable(schema, which)}${close}`);
}

/** The limits schema as stored. */
export function loadLimitsSchema() {
  return JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'limits.json'), 'utf8'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const files = args.filter((a) => a !== '--check');
  const schema = loadLimitsSchema();
  let stale = 0;
  for (const file of files.length > 0 ? files : DOCS.map((f) => path.join(ROOT, f))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('<!-- limits-table: ')) {
      process.stderr.write(`${file}: no limits table (<!-- limits-table: … --> marker)\n`);
      stale++;
      continue;
    }
    const out = renderLimitsTables(text, schema);
    if (out === text) continue;
    if (check) {
      process.stderr.write(`${file}: its limits table differs from schemas/limits.json; run node scripts/limits-table.mjs\n`);
      stale++;
    } else {
      writeFileSync(file, out);
      process.stdout.write(`${file}: limits table written\n`);
    }
  }
  process.exitCode = stale > 0 ? 1 : 0;
}
