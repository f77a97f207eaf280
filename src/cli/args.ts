// Command-line parsing for the client commands: positionals and `--name value` / `--name=value` options, with one-line usage errors.

/** A command line that cannot be run; exit code 2. */
export class UsageError extends Error {
  /** Whether pointing at `--help` helps (not for an unreadable file). */
  readonly hint: boolean;

  constructor(message: string, hint = true) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/** The options a command accepts: `value` options take an argument, `flag` options do not. */
export type OptionSpec = Readonly<Record<string, 'value' | 'flag'>>;

/** Short spellings of some options. */
const SHORT: Readonly<Record<string, string>> = { '-h': 'help', '-f': 'follow' };

/** A parsed command line. */
export interface ParsedArgs {
  readonly positionals: string[];
  /** By option name without dashes: the value, or `true` for a flag. */
  readonly options: ReadonlyMap<string, string | true>;
}

/** Splits `args` into positionals and the options of `spec`; `--` ends the options. @throws UsageError */
export function parseArgs(args: readonly string[], spec: OptionSpec, command: string): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const spelled = eq === -1 ? arg : arg.slice(0, eq);
    const name = SHORT[spelled] ?? (spelled.startsWith('--') ? spelled.slice(2) : undefined);
    const kind = name === undefined ? undefined : spec[name];
    if (name === undefined || kind === undefined) throw new UsageError(`unknown option ${JSON.stringify(spelled)} for ${command}`);
    if (options.has(name)) throw new UsageError(`--${name} is given twice`);
    if (kind === 'flag') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { positionals, options };
}

/** A non-negative decimal integer option, or undefined when absent. @throws UsageError */
export function intOption(options: ReadonlyMap<string, string | true>, name: string): number | undefined {
  const v = options.get(name);
  if (v === undefined || v === true) return undefined;
  if (!/^(0|[1-9][0-9]{0,14})$/.test(v)) throw new UsageError(`--${name} must be a whole number, not ${JSON.stringify(v)}`);
  return Number(v);
}

/** A string option, or undefined when absent. */
export function stringOption(options: ReadonlyMap<string, string | true>, name: string): string | undefined {
  const v = options.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** A server name as the API takes it (schemas/create-server.json): a DNS label that starts with a letter. */
export const SERVER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Checks a server argument: an httpdid (a positive integer) or a server name, as the API takes either. @throws UsageError */
export function serverArg(value: string | undefined, command: string): string {
  if (value === undefined) throw new UsageError(`${command} needs a server ID or NAME`);
  if (!/^[1-9][0-9]{0,14}$/.test(value) && !SERVER_NAME.test(value))
    throw new UsageError(`a server is named by its ID (a positive whole number) or its NAME (lower case letters, digits and hyphens, starting with a letter), not ${JSON.stringify(value)}`);
  return value;
}
