// Every limit of schemas/limits.json as a client flag (`memoryMb` → `--memory-mb`), derived from the schema so a new limit gets its flag: parsed by the schema's type, ranges left to the API (whose 400 names the limit).

import type { LimitName, Limits } from '../core/limits.js';
import { loadSchema } from '../core/schemas.js';
import { type OptionSpec, UsageError } from './args.js';

interface LimitProperty {
  readonly type: 'integer' | 'number';
  readonly description?: string;
}

const PROPERTIES = loadSchema('limits')['properties'] as Record<LimitName, LimitProperty>;

/** `memoryMb` → `memory-mb`. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Each limit's flag (without dashes), by limit name. */
export const LIMIT_FLAGS: ReadonlyMap<LimitName, string> = new Map((Object.keys(PROPERTIES) as LimitName[]).map((n) => [n, kebab(n)]));

/** The limit flags as options of a command (each takes a value). */
export const LIMIT_OPTIONS: OptionSpec = Object.fromEntries([...LIMIT_FLAGS.values()].map((f) => [f, 'value' as const]));

/** One line per flag for a command's --help: `--memory-mb N  memoryMb: …`. */
export function limitFlagsHelp(): string {
  return [...LIMIT_FLAGS]
    .map(([name, flag]) => {
      const p = PROPERTIES[name];
      return `  --${flag} ${p.type === 'integer' ? 'N' : 'X'}`.padEnd(34) + `${name}${p.description === undefined ? '' : `: ${p.description.split('. ')[0]?.replace(/\.$/, '')}`}`;
    })
    .join('\n');
}

/**
 * The limits given as flags, or undefined when none is.
 * @throws UsageError for a value that is not a number of the limit's type.
 */
export function limitsFromFlags(options: ReadonlyMap<string, string | true>): Partial<Limits> | undefined {
  const out: Partial<Record<LimitName, number>> = {};
  let any = false;
  for (const [name, flag] of LIMIT_FLAGS) {
    const v = options.get(flag);
    if (v === undefined || v === true) continue;
    const integer = PROPERTIES[name].type === 'integer';
    if (!(integer ? /^(0|[1-9][0-9]{0,14})$/ : /^(0|[1-9][0-9]{0,14})(\.[0-9]{1,9})?$|^0?\.[0-9]{1,9}$/).test(v))
      throw new UsageError(`--${flag} must be a ${integer ? 'whole number' : 'number'}, not ${JSON.stringify(v)}`);
    out[name] = Number(v);
    any = true;
  }
  return any ? out : undefined;
}
