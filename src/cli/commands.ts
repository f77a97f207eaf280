// The client commands of `isohttpd` (deploy, ls, show, logs, update, rm): talk to the control API at ISOHTTPD_URL with ISOHTTPD_TOKEN, print tables or the API's JSON.

import { readFile } from 'node:fs/promises';
import { httpdidArg, intOption, parseArgs, stringOption, UsageError, type OptionSpec, type ParsedArgs } from './args.js';
import { ApiClient, ApiError, DEFAULT_API_URL, UnreachableError } from './client.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { formatPairs, formatTable, printable } from './table.js';

/** Usage of the client commands (appended to the `isohttpd` usage). */
export const CLIENT_USAGE = `
client commands (talk to a running service):
       isohttpd deploy FILE --port P [--host H] [--memory-mb M] [--timeout-ms T] [--replicas N]
       isohttpd ls
       isohttpd show ID [--source]
       isohttpd logs ID [--follow|-f]
       isohttpd update ID FILE [--memory-mb M] [--timeout-ms T]
       isohttpd rm ID

  --url U     the API (env ISOHTTPD_URL, default ${DEFAULT_API_URL})
  --token T   tenant token, sent as Authorization: Bearer (env ISOHTTPD_TOKEN)
  --json      print the API's JSON (NDJSON for logs --follow) instead of tables
  exit codes: 0 ok, 1 API error, 2 usage, 3 not found, 4 unauthorized or forbidden,
              5 invalid source, 6 cannot reach the API
`;

/** Where the output goes (the process's streams, by default). */
export interface ClientIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/** A server as the API shows it (schemas/server.json; `version` once hot redeploy exists). */
interface ServerView {
  httpdid: number;
  host: string;
  port: number;
  state: string;
  reason?: string;
  version?: number;
  createdAt: string;
  replicas?: number;
  limits: { memoryMb?: number; timeoutMs?: number };
  stats?: { requests?: number };
  source?: string;
}

/** An entry of a server's log (schemas/log-entry.json): a console line, or a request that did not end ok. */
interface LogEntry {
  kind?: 'console' | 'request';
  time: string;
  level: string;
  message?: string;
  requestId?: string;
  method?: string;
  path?: string;
  outcome?: string;
  status?: number;
  detail?: string;
  stack?: string;
}

interface Context {
  readonly client: ApiClient;
  readonly json: boolean;
  readonly args: ParsedArgs;
  readonly out: (s: string) => void;
}

interface Command {
  readonly options: OptionSpec;
  run(ctx: Context): Promise<void>;
}

const GLOBAL_OPTIONS: OptionSpec = { url: 'value', token: 'value', json: 'flag', help: 'flag' };
const LIMIT_OPTIONS: OptionSpec = { 'memory-mb': 'value', 'timeout-ms': 'value' };

function positionals(ctx: Context, command: string, names: readonly string[]): string[] {
  const got = ctx.args.positionals;
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])} for ${command}`);
  const missing = names[got.length];
  if (missing !== undefined) throw new UsageError(`${command} needs ${missing}`);
  return got;
}

function limitsFrom(ctx: Context): { memoryMb?: number; timeoutMs?: number } | undefined {
  const memoryMb = intOption(ctx.args.options, 'memory-mb');
  const timeoutMs = intOption(ctx.args.options, 'timeout-ms');
  if (memoryMb === undefined && timeoutMs === undefined) return undefined;
  return { ...(memoryMb === undefined ? {} : { memoryMb }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

async function readSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${file}: ${e.code ?? e.message}`, false);
  }
}

function address(s: ServerView): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * One log entry as `isohttpd logs` prints it: a console line as `TIME  LEVEL  MESSAGE`; a request as
 * `TIME  error  request ID METHOD PATH -> STATUS OUTCOME: DETAIL`, its stack's lines indented below.
 */
function consoleLine(line: string): string {
  const o = JSON.parse(line) as Partial<LogEntry> & { dropped?: number };
  if (typeof o.dropped === 'number') return `-- ${o.dropped} lines dropped here: this reader was too slow --\n`;
  const head = `${printable(String(o.time))}  ${printable(String(o.level)).padEnd(5)}  `;
  if (o.kind !== 'request') return `${head}${printable(String(o.message))}\n`;
  const what = `request ${String(o.requestId)} ${String(o.method)} ${String(o.path)} -> ${String(o.status)} ${String(o.outcome)}: ${String(o.detail)}`;
  const stack = (o.stack ?? '').split('\n').filter((l) => l.trim() !== '');
  // The stack's first line repeats the message; its frames follow.
  return `${head}${printable(what)}\n${stack.map((l) => `    ${printable(l.trim())}\n`).join('')}`;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  deploy: {
    options: { port: 'value', host: 'value', replicas: 'value', ...LIMIT_OPTIONS },
    async run(ctx) {
      const [file = ''] = positionals(ctx, 'deploy', ['FILE']);
      const port = intOption(ctx.args.options, 'port');
      if (port === undefined) throw new UsageError('deploy needs --port P');
      const replicas = intOption(ctx.args.options, 'replicas');
      const limits = limitsFrom(ctx);
      const body = {
        host: stringOption(ctx.args.options, 'host') ?? '127.0.0.1',
        port,
        source: await readSource(file),
        ...(replicas === undefined ? {} : { replicas }),
        ...(limits === undefined ? {} : { limits }),
      };
      const s = (await ctx.client.call('POST', '/servers', body)) as ServerView;
      ctx.out(ctx.json ? json(s) : `deployed httpdid ${s.httpdid} on http://${address(s)}/ (memory ${s.limits.memoryMb} MiB, timeout ${s.limits.timeoutMs} ms)\n`);
    },
  },
  ls: {
    options: {},
    async run(ctx) {
      positionals(ctx, 'ls', []);
      const answer = (await ctx.client.call('GET', '/servers')) as { servers: ServerView[] };
      if (ctx.json) return ctx.out(json(answer));
      if (answer.servers.length === 0) return ctx.out('no servers\n');
      const withVersion = answer.servers.some((s) => s.version !== undefined);
      const header = ['ID', 'ADDRESS', 'STATE', ...(withVersion ? ['VERSION'] : []), 'REQUESTS', 'MEMORY', 'TIMEOUT', 'CREATED'];
      const rows = answer.servers.map((s) => [
        String(s.httpdid),
        address(s),
        s.state,
        ...(withVersion ? [String(s.version ?? '-')] : []),
        String(s.stats?.requests ?? '-'),
        `${s.limits.memoryMb} MiB`,
        `${s.limits.timeoutMs} ms`,
        s.createdAt,
      ]);
      ctx.out(formatTable(header, rows));
    },
  },
  show: {
    options: { source: 'flag' },
    async run(ctx) {
      const [id] = positionals(ctx, 'show', ['ID']);
      const withSource = ctx.args.options.has('source');
      const s = (await ctx.client.call('GET', `/servers/${httpdidArg(id, 'show')}${withSource ? '?source=1' : ''}`)) as ServerView;
      if (ctx.json) return ctx.out(json(s));
      const { source, ...rest } = s;
      // The source is the tenant's own file: printed as is, after the table.
      ctx.out(formatPairs(rest as unknown as Record<string, unknown>) + (source === undefined ? '' : `\n${source}${source.endsWith('\n') ? '' : '\n'}`));
    },
  },
  logs: {
    options: { follow: 'flag' },
    async run(ctx) {
      const [id] = positionals(ctx, 'logs', ['ID']);
      const path = `/servers/${httpdidArg(id, 'logs')}/logs`;
      if (ctx.args.options.has('follow')) {
        return ctx.client.stream(`${path}?follow=1`, (line) => ctx.out(ctx.json ? `${line}\n` : consoleLine(line)));
      }
      const answer = (await ctx.client.call('GET', path)) as { lines: LogEntry[] };
      if (ctx.json) return ctx.out(json(answer));
      for (const l of answer.lines) ctx.out(consoleLine(JSON.stringify(l)));
    },
  },
  update: {
    options: LIMIT_OPTIONS,
    async run(ctx) {
      const [id, file = ''] = positionals(ctx, 'update', ['ID', 'FILE']);
      const httpdid = httpdidArg(id, 'update');
      const limits = limitsFrom(ctx);
      const s = (await ctx.client.call('PUT', `/servers/${httpdid}`, { source: await readSource(file), ...(limits === undefined ? {} : { limits }) })) as ServerView;
      ctx.out(ctx.json ? json(s) : `updated httpdid ${s.httpdid}${s.version === undefined ? '' : ` to version ${s.version}`}\n`);
    },
  },
  rm: {
    options: {},
    async run(ctx) {
      const [id] = positionals(ctx, 'rm', ['ID']);
      const httpdid = httpdidArg(id, 'rm');
      await ctx.client.call('DELETE', `/servers/${httpdid}`);
      // 204 has no body: --json prints nothing, the exit code says it.
      if (!ctx.json) ctx.out(`removed httpdid ${httpdid}\n`);
    },
  },
};

/** The names of the client commands, for the `isohttpd` dispatcher. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMANDS));

/** The one line printed for a failure, and its exit code. */
function failure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.hint ? `${err.message} (see isohttpd --help)` : err.message, code: EXIT.usage };
  if (err instanceof ApiError) {
    return { message: `${err.status}${err.code === undefined ? '' : ` ${err.code}`}: ${printable(err.message)}`, code: exitCodeForStatus(err.status) };
  }
  if (err instanceof UnreachableError) return { message: printable(err.message), code: EXIT.unreachable };
  throw err;
}

/**
 * Runs one client command, e.g. `['deploy', 'hello.js', '--port', '8080']`. Prints to `io`
 * (human-readable, or the API's JSON with `--json`) and resolves to the exit code (see
 * {@link EXIT}); errors are one line on stderr with the API's status and code. `logs --follow`
 * resolves when the API ends the stream (the server was deleted).
 */
export async function runClientCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: ClientIo = process): Promise<number> {
  const [name = '', ...rest] = argv;
  const command = COMMANDS[name];
  try {
    if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    const args = parseArgs(rest, { ...GLOBAL_OPTIONS, ...command.options }, name);
    if (args.options.has('help')) {
      io.stdout.write(CLIENT_USAGE);
      return EXIT.ok;
    }
    const url = stringOption(args.options, 'url') ?? (env['ISOHTTPD_URL'] || DEFAULT_API_URL);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`the API URL ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`the API URL ${JSON.stringify(url)} must be http: or https:`);
    const client = new ApiClient(url, stringOption(args.options, 'token') ?? env['ISOHTTPD_TOKEN']);
    await command.run({ client, json: args.options.has('json'), args, out: (s) => io.stdout.write(s) });
    return EXIT.ok;
  } catch (err) {
    const { message, code } = failure(err);
    io.stderr.write(`isohttpd: ${message}\n`);
    return code;
  }
}
