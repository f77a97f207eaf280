// schemas/limits.json is the one declaration of the per-server limits: src/core/limits.ts derives the type from it and names no limit itself; every limit has a unit, a range and a default within it; resolveLimits applies every default.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { resolveLimits, type LimitName, type Limits } from '../src/core/limits.js';

const ROOT = path.resolve(import.meta.dirname, '..');
interface Prop {
  type: string;
  minimum?: number;
  maximum?: number;
  default?: number;
  description?: string;
}
const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'limits.json'), 'utf8')) as { properties: Record<string, Prop> };
const names = Object.keys(schema.properties);

/** The unit a limit's name ends with, and the words its description must use for it. */
const UNITS: ReadonlyArray<readonly [RegExp, RegExp]> = [
  [/Mb$/, /\bin MiB\b/],
  [/Ms$/, /\bin milliseconds\b/],
  [/Bytes$/, /\bin bytes\b/],
];

t.test('src/core/limits.ts writes no second copy of the schema', async (t) => {
  const source = readFileSync(path.join(ROOT, 'src', 'core', 'limits.ts'), 'utf8');
  for (const name of names) t.notMatch(source, new RegExp(`\\b${name}\\b`), `${name} is not named in limits.ts`);
  // Type-level: a limit name is a schema property, and a Limits holds a number for each.
  const first: LimitName = 'memoryMb';
  const limits: Limits = resolveLimits(undefined);
  t.type(limits[first], 'number');
});

t.test('every limit in schemas/limits.json has a unit, a range and a default within it', async (t) => {
  for (const name of names) {
    const prop = schema.properties[name];
    if (prop === undefined) continue;
    t.ok(prop.type === 'integer' || prop.type === 'number', `${name}: a number`);
    t.ok(prop.minimum !== undefined && prop.maximum !== undefined && prop.default !== undefined, `${name}: minimum, maximum and default`);
    t.ok((prop.minimum ?? 0) <= (prop.default ?? -1) && (prop.default ?? Infinity) <= (prop.maximum ?? -1), `${name}: its default is within its range`);
    for (const [suffix, words] of UNITS) if (suffix.test(name)) t.match(prop.description ?? '', words, `${name}: the description says the unit its name does`);
    if (prop.type === 'number') t.match(prop.description ?? '', /\bfraction\b/, `${name}: a fraction, says the description`);
  }
});

t.test('resolveLimits applies every schema default and nothing else', async (t) => {
  const defaults = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, v.default]));
  t.same(resolveLimits(undefined), defaults);
  t.same(resolveLimits({ memoryMb: 16 }), { ...defaults, memoryMb: 16 });
  t.ok(Object.isFrozen(resolveLimits({})), 'frozen');
});
