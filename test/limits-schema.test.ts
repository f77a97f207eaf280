// The Limits type in src/core/limits.ts is checked against schemas/limits.json, the one declaration: the same fields in the same order, units and ranges as the schema says, every default applied.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { resolveLimits } from '../src/core/limits.js';

const ROOT = path.resolve(import.meta.dirname, '..');
interface Prop {
  type: string;
  minimum?: number;
  maximum?: number;
  default?: number;
  description?: string;
}
const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'limits.json'), 'utf8')) as { properties: Record<string, Prop> };
const source = readFileSync(path.join(ROOT, 'src', 'core', 'limits.ts'), 'utf8');
const body = source.slice(source.indexOf('export interface Limits {'), source.indexOf('\n}', source.indexOf('export interface Limits {')));
const fields = [...body.matchAll(/\/\*\* ([^*]+?) \*\/\s+readonly (\w+): number;/g)].map((m) => ({ doc: m[1] ?? '', name: m[2] ?? '' }));

/** The unit a JSDoc line ends with, and the words the schema's description must use for it. */
const UNITS: Record<string, RegExp> = { MiB: /\bMiB\b/, ms: /\bmilliseconds\b/, bytes: /\bbytes\b/, fraction: /\bfraction\b/ };

t.test('Limits matches schemas/limits.json', async (t) => {
  t.same(
    fields.map((f) => f.name),
    Object.keys(schema.properties),
    "the same fields, in the schema's order",
  );
  for (const { name, doc } of fields) {
    const prop = schema.properties[name];
    if (prop === undefined) continue;
    t.ok(prop.type === 'integer' || prop.type === 'number', `${name}: a number in the schema`);
    const unit = /, (MiB|ms|bytes|fraction)\b/.exec(doc)?.[1];
    if (unit !== undefined) t.match(prop.description ?? '', UNITS[unit] ?? /$^/, `${name}: the schema says ${unit} too`);
    const range = /\((\d+(?:\.\d+)?)–(\d+(?:\.\d+)?)\)/.exec(doc);
    if (range !== null) t.same([Number(range[1]), Number(range[2])], [prop.minimum, prop.maximum], `${name}: the range in its comment is the schema's`);
  }
});

t.test('resolveLimits applies every schema default and nothing else', async (t) => {
  const defaults = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, v.default]));
  t.same(resolveLimits(undefined), defaults);
  t.same(resolveLimits({ memoryMb: 16 }), { ...defaults, memoryMb: 16 });
  t.ok(Object.isFrozen(resolveLimits({})), 'frozen');
});
