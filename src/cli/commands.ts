// The client commands of `isohttpd` (deploy, ls, show, logs, update, rm): talk to the control API at ISOHTTPD_URL with ISOHTTPD_TOKEN, print tables or the API's JSON.

import { readFile } from 'node:fs/promises';
import { intOption, parseArgs, SERVER_NAME, serverArg, stringOption, UsageError, type OptionSpec, type ParsedArgs } from './args.js';
import { ApiClient, ApiError, DEFAULT_API_URL, UnreachableError } from './client.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { formatPairs, formatTable, printable } from './table.js';
import { type Language, languageOfFile } from '../core/language.js';
import type { Limits } from '../core/limits.js';
import { initProject } from './init.js';
import { LIMIT_OPTIONS, limitFlagsHelp, limitsFromFlags } from './limit-flags.js';
import { loadProject, PROJECT_FILE, type Project } from './project.js';
import { readSecretValue, secretName } from './secret.js';
import { TAIL_OPTIONS, tailLine, tailQuery } from './tail.js';

/** Usage of the client commands (appended to the `isohttpd` usage). */
export const CLIENT_USAGE = `
client commands (talk to a running service; \`isohttpd COMMAND --help\` for each):
       isohttpd init [DIR] [--name NAME] [--port P] [--typescript]
       isohttpd dev [FILE] [--port P] [LIMIT FLAGS]   (an embedded service: redeploy on save, tail)
       isohttpd deploy [FILE] [--name NAME] [--port P] [--host H] [--replicas N] [--project F] [LIMIT FLAGS]
       isohttpd ls
       isohttpd show ID|NAME [--source]
       isohttpd logs ID|NAME [--follow|-f]
       isohttpd tail ID|NAME [--status 5xx] [--outcome exception] [--search TEXT] [--sample 0.1]
       isohttpd update ID|NAME [FILE] [LIMIT FLAGS]
       isohttpd rm ID|NAME
       isohttpd versions ID|NAME
       isohttpd secret put|ls|rm ID|NAME [SECRET]   (put reads the value from stdin)
       isohttpd restart ID|NAME
       isohttpd rollback ID|NAME [--to V]

  --url U     the API (env ISOHTTPD_URL, default ${DEFAULT_API_URL})
  --token T   tenant token, sent as Authorization: Bearer (env ISOHTTPD_TOKEN)
  --json      print JSON (the API's; NDJSON for logs --follow and tail) instead of text
  exit codes: 0 ok, 1 API error, 2 usage, 3 not found, 4 unauthorized or forbidden,
              5 invalid source, 6 cannot reach the API
`;

const GLOBAL_HELP = `
  --url U     the API (env ISOHTTPD_URL, default ${DEFAULT_API_URL})
  --token T   tenant token, sent as Authorization: Bearer (env ISOHTTPD_TOKEN)
  --json      print JSON instead of text
  exit codes: 0 ok, 1 API error, 2 usage, 3 not found, 4 unauthorized or forbidden,
              5 invalid source, 6 cannot reach the API
`;

/** Where the output goes, and where `secret put` reads its value (the process's streams, by default). */
export interface ClientIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** A server as the API shows it (schemas/server.json; `version` once hot redeploy exists). */
interface ServerView {
  httpdid: number;
  name?: string;
  host: string;
  port: number;
  hostnames?: string[];
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
  /** For notes that are not the command's output. */
  readonly err: (s: string) => void;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

interface Command {
  /** What `isohttpd COMMAND --help` prints above the global options: usage, what it does, an example. */
  readonly help: string;
  readonly options: OptionSpec;
  run(ctx: Context): Promise<void>;
}

const GLOBAL_OPTIONS: OptionSpec = { url: 'value', token: 'value', json: 'flag', help: 'flag' };

function positionals(ctx: Context, command: string, names: readonly string[]): string[] {
  const got = ctx.args.positionals;
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])} for ${command}`);
  const missing = names[got.length];
  if (missing !== undefined) throw new UsageError(`${command} needs ${missing}`);
  return got;
}

function limitsFrom(ctx: Context): Partial<Limits> | undefined {
  return limitsFromFlags(ctx.args.options);
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

/** What `deploy` sends: its flags over the project file's fields. */
interface DeployPlan {
  readonly name: string | undefined;
  readonly file: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly hostnames: readonly string[] | undefined;
  readonly replicas: number | undefined;
  readonly limits: Partial<Record<string, number>> | undefined;
  readonly exposeErrors: boolean | undefined;
  readonly vars: Readonly<Record<string, string>> | undefined;
  readonly egress: { readonly allow: readonly string[] } | undefined;
  readonly language: Language;
}

async function deployPlan(ctx: Context): Promise<DeployPlan> {
  const got = ctx.args.positionals;
  if (got.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(got[1])} for deploy`);
  const o = ctx.args.options;
  const projectFile = stringOption(o, 'project');
  let project: Project | undefined;
  let file = got[0];
  if (file === undefined || projectFile !== undefined) {
    const loaded = await loadProject(projectFile ?? PROJECT_FILE).catch((err: unknown) => {
      // No FILE and no project file here: say what deploy wants.
      if (projectFile === undefined && err instanceof UsageError && /ENOENT/.test(err.message))
        throw new UsageError(`deploy needs FILE, or a ${PROJECT_FILE} in the current directory (isohttpd deploy --help)`);
      throw err;
    });
    project = loaded.project;
    file ??= loaded.entryPath;
  }
  const name = stringOption(o, 'name') ?? project?.name;
  if (name !== undefined && !SERVER_NAME.test(name)) throw new UsageError(`--name must be lower case letters, digits and hyphens, starting with a letter (at most 63), not ${JSON.stringify(name)}`);
  const flags = limitsFrom(ctx);
  const limits = project?.limits === undefined && flags === undefined ? undefined : { ...project?.limits, ...flags };
  return {
    name,
    file,
    host: stringOption(o, 'host') ?? project?.host,
    port: intOption(o, 'port') ?? project?.port,
    hostnames: project?.hostnames,
    replicas: intOption(o, 'replicas') ?? project?.replicas,
    limits,
    exposeErrors: project?.exposeErrors,
    vars: project?.vars,
    egress: project?.egress,
    language: project?.language ?? languageOfFile(file),
  };
}

/** Whether a project's hostnames are the server's (as the API normalised them: lower case, no trailing dot; in any order). */
function sameHostnames(planned: readonly string[], held: readonly string[]): boolean {
  const norm = (h: string): string => h.toLowerCase().replace(/\.$/, '');
  const a = [...new Set(planned.map(norm))].sort();
  const b = [...held].sort();
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

/** How long `deploy` waits for a creation of the same name by someone else to finish, ms. */
const CONCURRENT_CREATE_WAIT_MS = 30_000;

/**
 * `deploy`: without a name, creates a server (as always); with one (from --name or the project
 * file), creates it if the tenant has none of that name and hot-redeploys it otherwise.
 */
async function deploy(ctx: Context): Promise<void> {
  const plan = await deployPlan(ctx);
  const source = await readSource(plan.file);
  const opt = <K extends keyof DeployPlan>(k: K): Partial<Pick<DeployPlan, K>> => (plan[k] === undefined ? {} : ({ [k]: plan[k] } as Partial<Pick<DeployPlan, K>>));
  const create = async (): Promise<ServerView> => {
    if (plan.port === undefined) throw new UsageError(plan.name === undefined ? 'deploy needs --port P' : `deploy of the new server ${plan.name} needs --port P (or port in ${PROJECT_FILE})`);
    const body = {
      ...opt('name'),
      host: plan.host ?? '127.0.0.1',
      port: plan.port,
      ...opt('hostnames'),
      source,
      language: plan.language,
      ...opt('replicas'),
      ...opt('limits'),
      ...opt('exposeErrors'),
      ...opt('vars'),
      ...opt('egress'),
    };
    return (await ctx.client.call('POST', '/servers', body)) as ServerView;
  };
  const created = (s: ServerView): void =>
    ctx.out(
      ctx.json ? json(s) : `deployed ${s.name === undefined ? '' : `${s.name}, `}httpdid ${s.httpdid} on http://${address(s)}/ (memory ${s.limits.memoryMb} MiB, timeout ${s.limits.timeoutMs} ms)\n`,
    );
  if (plan.name === undefined) return created(await create());
  let current: ServerView | undefined;
  try {
    current = (await ctx.client.call('GET', `/servers/${plan.name}`)) as ServerView;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  // Created meanwhile by another deploy: redeploy it instead, once that creation is done (until then
  // the name is taken but the server not shown: a creation answers only once it serves); should that
  // creation fail, the name is free again and this one creates it.
  const deadline = Date.now() + CONCURRENT_CREATE_WAIT_MS;
  while (current === undefined) {
    try {
      return created(await create());
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'ISO_ERR_API_NAME_TAKEN')) throw err;
    }
    try {
      current = (await ctx.client.call('GET', `/servers/${plan.name}`)) as ServerView;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const moved = [
    plan.host !== undefined && plan.host !== current.host ? `host ${plan.host} (it has ${current.host})` : null,
    plan.port !== undefined && plan.port !== current.port ? `port ${plan.port} (it has ${current.port})` : null,
    plan.replicas !== undefined && plan.replicas !== current.replicas ? `replicas ${plan.replicas} (it has ${String(current.replicas)})` : null,
    plan.hostnames !== undefined && !sameHostnames(plan.hostnames, current.hostnames ?? [])
      ? `hostnames ${plan.hostnames.join(', ')} (it has ${(current.hostnames ?? []).join(', ') || 'none'})`
      : null,
  ].filter((m): m is string => m !== null);
  if (moved.length > 0) throw new UsageError(`${plan.name} (httpdid ${current.httpdid}) exists; a redeploy cannot change its ${moved.join(', ')}: remove it first (isohttpd rm ${plan.name})`, false);
  const s = (await ctx.client.call('PUT', `/servers/${plan.name}`, { source, language: plan.language, ...opt('limits'), ...opt('exposeErrors'), ...opt('vars'), ...opt('egress') })) as ServerView;
  if (ctx.json) return ctx.out(json(s));
  ctx.out(
    s.version === current.version
      ? `${plan.name} (httpdid ${s.httpdid}) is up to date: the same source and limits as version ${String(s.version)}, nothing deployed\n`
      : `updated ${plan.name} (httpdid ${s.httpdid}) to version ${String(s.version)} on http://${address(s)}/\n`,
  );
}

const COMMANDS: Readonly<Record<string, Command>> = {
  init: {
    help: `usage: isohttpd init [DIR] [--name NAME] [--port P] [--typescript]

Writes a starter project into DIR (default: the current directory; made if missing): handler.js,
isohttpd.json (name: DIR's name, port 8080) and handler.test.mjs, a test of the handler that
\`node --test\` runs. It refuses to overwrite a file that exists. Then: isohttpd dev, or isohttpd deploy.

  --name NAME    the server's name in isohttpd.json
  --port P       its port
  --typescript   handler.ts instead, with the handler types beside it (isohttpd.d.ts)

example: isohttpd init hello && cd hello && node --test && isohttpd deploy
`,
    options: { name: 'value', port: 'value', typescript: 'flag' },
    async run(ctx) {
      const got = ctx.args.positionals;
      if (got.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(got[1])} for init`);
      const typescript = ctx.args.options.has('typescript');
      const name = stringOption(ctx.args.options, 'name');
      const port = intOption(ctx.args.options, 'port');
      const made = await initProject(got[0] ?? '.', { ...(name === undefined ? {} : { name }), ...(port === undefined ? {} : { port }), typescript });
      if (ctx.json) return ctx.out(json(made));
      ctx.out(
        `${made.files.map((f) => `wrote ${f}\n`).join('')}next: cd ${made.dir} && node --test && isohttpd dev   (a local loop; then isohttpd deploy: server ${made.name} on port ${made.port})\n`,
      );
    },
  },
  deploy: {
    help: `usage: isohttpd deploy [FILE] [--name NAME] [--port P] [--host H] [--replicas N] [--project F] [LIMIT FLAGS]

Without --name: creates a new server from the handler in FILE (--port needed, host 127.0.0.1 by default).
With --name (or a name in the project file): creates server NAME if you have none of that name,
and hot-redeploys it otherwise; the same source and limits again deploy nothing, and it says so.
Without FILE it reads isohttpd.json in the current directory (or the file --project names):
name, entry, host, port, hostnames, limits, replicas, exposeErrors, vars, egress (schemas/project.json); flags win over it.

  --name NAME     the server's name (lower case letters, digits, hyphens; starts with a letter)
  --port P        the port, when it is created
  --host H        the address, when it is created (default 127.0.0.1)
  --replicas N    worker processes serving it, when it is created
  --project F     the project file to read (default ./isohttpd.json when FILE is not given)
LIMIT FLAGS (merged into a redeployed server's current limits):
${limitFlagsHelp()}

example: isohttpd deploy hello.js --name hello --port 8080 --timeout-ms 500
`,
    options: { name: 'value', port: 'value', host: 'value', replicas: 'value', project: 'value', ...LIMIT_OPTIONS },
    run: deploy,
  },
  ls: {
    help: `usage: isohttpd ls

Your servers, one row each: ID, NAME, ADDRESS, STATE, VERSION, REQUESTS, MEMORY, TIMEOUT, CREATED,
and REASON when one has failed.

example: isohttpd ls --json
`,
    options: {},
    async run(ctx) {
      positionals(ctx, 'ls', []);
      const answer = (await ctx.client.call('GET', '/servers')) as { servers: ServerView[] };
      if (ctx.json) return ctx.out(json(answer));
      if (answer.servers.length === 0) return ctx.out('no servers\n');
      const withVersion = answer.servers.some((s) => s.version !== undefined);
      const withName = answer.servers.some((s) => s.name !== undefined);
      const withReason = answer.servers.some((s) => s.reason !== undefined);
      const header = ['ID', ...(withName ? ['NAME'] : []), 'ADDRESS', 'STATE', ...(withVersion ? ['VERSION'] : []), 'REQUESTS', 'MEMORY', 'TIMEOUT', 'CREATED', ...(withReason ? ['REASON'] : [])];
      const rows = answer.servers.map((s) => [
        String(s.httpdid),
        ...(withName ? [printable(s.name ?? '-')] : []),
        address(s),
        s.state,
        ...(withVersion ? [String(s.version ?? '-')] : []),
        String(s.stats?.requests ?? '-'),
        `${s.limits.memoryMb} MiB`,
        `${s.limits.timeoutMs} ms`,
        s.createdAt,
        ...(withReason ? [printable(s.reason ?? '')] : []),
      ]);
      ctx.out(formatTable(header, rows));
    },
  },
  show: {
    help: `usage: isohttpd show ID|NAME [--source]

One server: address, state, limits, stats; with --source, its handler's source after them.

example: isohttpd show hello --source
`,
    options: { source: 'flag' },
    async run(ctx) {
      const [id] = positionals(ctx, 'show', ['ID']);
      const withSource = ctx.args.options.has('source');
      const s = (await ctx.client.call('GET', `/servers/${serverArg(id, 'show')}${withSource ? '?source=1' : ''}`)) as ServerView;
      if (ctx.json) return ctx.out(json(s));
      const { source, ...rest } = s;
      // The source is the tenant's own file: printed as is, after the table.
      ctx.out(formatPairs(rest as unknown as Record<string, unknown>) + (source === undefined ? '' : `\n${source}${source.endsWith('\n') ? '' : '\n'}`));
    },
  },
  logs: {
    help: `usage: isohttpd logs ID|NAME [--follow|-f]

The server's last log entries: console lines, and requests that did not end ok with their detail
and stack. --follow keeps printing new ones until the server is deleted or the service stops.

example: isohttpd logs hello -f
`,
    options: { follow: 'flag' },
    async run(ctx) {
      const [id] = positionals(ctx, 'logs', ['ID']);
      const path = `/servers/${serverArg(id, 'logs')}/logs`;
      if (ctx.args.options.has('follow')) {
        let end: unknown;
        await ctx.client.stream(`${path}?follow=1`, (line) => {
          const parsed = JSON.parse(line) as { end?: unknown };
          if (parsed.end !== undefined) end = parsed.end;
          if (ctx.json) ctx.out(`${line}\n`);
          else if (parsed.end === undefined) ctx.out(consoleLine(line));
        });
        // The API's last line says why it ended: the server is gone (done), or the service is stopping.
        if (end === 'deleted') return ctx.err(`isohttpd: server ${id} was deleted; its log ends here\n`);
        throw new UnreachableError(ctx.client.url, end === 'stopping' ? 'the service is stopping' : 'without its last line', 'ended');
      }
      const answer = (await ctx.client.call('GET', path)) as { lines: LogEntry[] };
      if (ctx.json) return ctx.out(json(answer));
      for (const l of answer.lines) ctx.out(consoleLine(JSON.stringify(l)));
    },
  },
  tail: {
    help: `usage: isohttpd tail ID|NAME [--status S] [--outcome O] [--search TEXT] [--sample F]

Every request of the server as it is answered: time, status, outcome, method, path, duration,
bytes in and out, request id; for an exception its message and stack (lines and columns of your
source, .ts included); the console lines its handler wrote. Runs until Ctrl-C, the server is
deleted (exit 0) or the service stops (exit 6).
  --status S    only these statuses: NNN or a class Nxx, separated by commas (5xx, 404, 4xx,500)
  --outcome O   only these outcomes: ok, exception, timeout, memory, invalidResponse, crashed
  --search TEXT only entries containing TEXT (path, detail, stack, console lines; any case)
  --sample F    show this fraction of the requests, drawn at random (0.1: one in ten)

example: isohttpd tail hello --status 5xx
`,
    options: TAIL_OPTIONS,
    async run(ctx) {
      const [id] = positionals(ctx, 'tail', ['ID']);
      const path = `/servers/${serverArg(id, 'tail')}/tail${tailQuery(ctx.args.options)}`;
      let end: unknown;
      await ctx.client.stream(
        path,
        (line) => {
          const parsed = JSON.parse(line) as { end?: unknown };
          if (parsed.end !== undefined) end = parsed.end;
          if (ctx.json) ctx.out(`${line}\n`);
          else if (parsed.end === undefined) ctx.out(tailLine(line));
        },
        // The API answers once every worker tails the server: from here on, no request is missed.
        () => ctx.err(`isohttpd: tailing server ${id}; Ctrl-C to stop\n`),
      );
      if (end === 'deleted') return ctx.err(`isohttpd: server ${id} was deleted; its tail ends here\n`);
      throw new UnreachableError(ctx.client.url, end === 'stopping' ? 'the service is stopping' : 'without its last line', 'ended');
    },
  },
  update: {
    help: `usage: isohttpd update ID|NAME [FILE] [LIMIT FLAGS]

Hot redeploy: the source in FILE, new limits (merged into the current ones), or both. The new
version is compiled and checked first; on any error the old one serves on.
LIMIT FLAGS:
${limitFlagsHelp()}

example: isohttpd update hello --timeout-ms 500
`,
    options: LIMIT_OPTIONS,
    async run(ctx) {
      const got = ctx.args.positionals;
      if (got.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(got[2])} for update`);
      const ref = serverArg(got[0], 'update');
      const file = got[1];
      const limits = limitsFrom(ctx);
      if (file === undefined && limits === undefined) throw new UsageError('update needs FILE, a limit flag (e.g. --timeout-ms 500), or both');
      const body = { ...(file === undefined ? {} : { source: await readSource(file), language: languageOfFile(file) }), ...(limits === undefined ? {} : { limits }) };
      const s = (await ctx.client.call('PUT', `/servers/${ref}`, body)) as ServerView;
      ctx.out(ctx.json ? json(s) : `updated httpdid ${s.httpdid}${s.version === undefined ? '' : ` to version ${s.version}`}\n`);
    },
  },
  rm: {
    help: `usage: isohttpd rm ID|NAME

Stops a server and releases its port (its name is free again).

example: isohttpd rm hello
`,
    options: {},
    async run(ctx) {
      const [id] = positionals(ctx, 'rm', ['ID']);
      const ref = serverArg(id, 'rm');
      // By its httpdid, so that a name taken again meanwhile is not the one removed.
      const s = (await ctx.client.call('GET', `/servers/${ref}`)) as ServerView;
      await ctx.client.call('DELETE', `/servers/${s.httpdid}`);
      if (ctx.json) return ctx.out(json({ httpdid: s.httpdid, ...(s.name === undefined ? {} : { name: s.name }), removed: true }));
      ctx.out(s.name === undefined ? `removed httpdid ${s.httpdid}\n` : `removed ${s.name} (httpdid ${s.httpdid})\n`);
    },
  },
  restart: {
    help: `usage: isohttpd restart ID|NAME

Brings a failed server back (ls shows why it failed): binds its address and deploys its current
version again. A running server is left alone (409); a redeploy is update or deploy.

example: isohttpd restart hello
`,
    options: {},
    async run(ctx) {
      const [id] = positionals(ctx, 'restart', ['ID']);
      const s = (await ctx.client.call('POST', `/servers/${serverArg(id, 'restart')}/restart`)) as ServerView;
      ctx.out(ctx.json ? json(s) : `restarted ${s.name ?? `httpdid ${s.httpdid}`} on http://${address(s)}/ (version ${String(s.version)})\n`);
    },
  },
  secret: {
    help: `usage: isohttpd secret put ID|NAME SECRET   (the value from stdin)
       isohttpd secret ls ID|NAME
       isohttpd secret rm ID|NAME SECRET

A server's secrets: the handler gets each in its second argument, env.SECRET. put writes one (a new
one or a new value), reading the value from stdin (one trailing newline dropped), and redeploys
the serving version with it; ls lists them by name (values are never shown, by the CLI or the API);
rm deletes one. Names: a letter or _, then letters, digits or _ (at most 64); values at most 5120 bytes.

example: printf %s "$STRIPE_KEY" | isohttpd secret put hello STRIPE_KEY
`,
    options: {},
    async run(ctx) {
      const [sub, id, name, extra] = ctx.args.positionals;
      if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)} for secret`);
      if (sub !== 'put' && sub !== 'ls' && sub !== 'rm') throw new UsageError(sub === undefined ? 'secret needs put, ls or rm' : `secret ${JSON.stringify(sub)}: use put, ls or rm`);
      const ref = serverArg(id, `secret ${sub}`);
      if (sub === 'ls') {
        if (name !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(name)} for secret ls`);
        const answer = (await ctx.client.call('GET', `/servers/${ref}/secrets`)) as { secrets: Array<{ name: string; updatedAt: string }> };
        if (ctx.json) return ctx.out(json(answer));
        return ctx.out(
          formatTable(
            ['NAME', 'UPDATED'],
            answer.secrets.map((s) => [s.name, s.updatedAt]),
          ),
        );
      }
      const secret = secretName(name, `secret ${sub}`);
      if (sub === 'rm') {
        await ctx.client.call('DELETE', `/servers/${ref}/secrets/${secret}`);
        return ctx.out(ctx.json ? json({ name: secret, removed: true }) : `deleted secret ${secret} of ${id}; the serving version runs without it\n`);
      }
      const value = await readSecretValue(ctx.stdin, secret);
      const answer = (await ctx.client.call('PUT', `/servers/${ref}/secrets/${secret}`, { value })) as { name: string; updatedAt: string };
      ctx.out(ctx.json ? json(answer) : `wrote secret ${secret} of ${id}; the serving version runs with it\n`);
    },
  },
  versions: {
    help: `usage: isohttpd versions ID|NAME

The server's kept versions, newest first: VERSION, CREATED, SHA256 (of the source; compare with
sha256sum), BYTES, MEMORY, TIMEOUT, and * for the one serving. The last versionsKept (a quota,
default 10) are kept.

example: isohttpd versions hello
`,
    options: {},
    async run(ctx) {
      const [id] = positionals(ctx, 'versions', ['ID']);
      const answer = (await ctx.client.call('GET', `/servers/${serverArg(id, 'versions')}/versions`)) as {
        current: number;
        versions: Array<{ version: number; createdAt: string; sourceSha256: string; sourceBytes: number; limits: { memoryMb?: number; timeoutMs?: number }; current: boolean }>;
      };
      if (ctx.json) return ctx.out(json(answer));
      const rows = answer.versions.map((v) => [
        `${v.version}${v.current ? ' *' : ''}`,
        v.createdAt,
        v.sourceSha256.slice(0, 12),
        String(v.sourceBytes),
        `${v.limits.memoryMb} MiB`,
        `${v.limits.timeoutMs} ms`,
      ]);
      ctx.out(formatTable(['VERSION', 'CREATED', 'SHA256', 'BYTES', 'MEMORY', 'TIMEOUT'], rows));
    },
  },
  rollback: {
    help: `usage: isohttpd rollback ID|NAME [--to V]

Hot redeploy of a kept version (its source, limits and exposeErrors) as a new version: requests in
flight finish on the current one, none fails. Without --to: the newest kept version before the
one serving.

  --to V   the kept version to deploy again (isohttpd versions lists them)

example: isohttpd rollback hello --to 3
`,
    options: { to: 'value' },
    async run(ctx) {
      const [id] = positionals(ctx, 'rollback', ['ID']);
      const to = intOption(ctx.args.options, 'to');
      const s = (await ctx.client.call('POST', `/servers/${serverArg(id, 'rollback')}/rollback`, to === undefined ? {} : { version: to })) as ServerView;
      ctx.out(ctx.json ? json(s) : `rolled ${s.name ?? `httpdid ${s.httpdid}`} back${to === undefined ? '' : ` to version ${to}`}: now version ${String(s.version)}\n`);
    },
  },
};

/** The names of the client commands, for the `isohttpd` dispatcher. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMANDS));

/**
 * A token must be sendable in an HTTP header (visible ASCII): a stray space, quote or newline
 * pasted with it would otherwise surface as a confusing failure to reach the API.
 * @throws UsageError naming where the token came from and the position of the character
 */
function checkToken(token: string | undefined, from: string): void {
  if (token === undefined || token === '') return;
  const bad = [...token].findIndex((c) => c < '!' || c > '~');
  if (bad !== -1)
    throw new UsageError(
      `${from} holds a character that cannot be sent in an HTTP header (${JSON.stringify(token[bad])} at position ${bad + 1} of ${token.length}): a stray space, quote or line break pasted with it?`,
      false,
    );
}

/** The one line printed for a failure, and its exit code. */
function failure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.hint ? `${err.message} (see isohttpd --help)` : err.message, code: EXIT.usage };
  if (err instanceof ApiError) {
    const hint = err.code === 'ISO_ERR_API_UNAUTHORIZED' ? '; check ISOHTTPD_TOKEN (or --token): the token was refused or is missing' : '';
    return { message: `${err.status}${err.code === undefined ? '' : ` ${err.code}`}: ${printable(err.message)}${hint}`, code: exitCodeForStatus(err.status) };
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
      io.stdout.write(command.help + GLOBAL_HELP);
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
    const token = stringOption(args.options, 'token') ?? env['ISOHTTPD_TOKEN'];
    checkToken(token, stringOption(args.options, 'token') !== undefined ? '--token' : 'ISOHTTPD_TOKEN');
    const client = new ApiClient(url, token);
    await command.run({ client, json: args.options.has('json'), args, out: (s) => io.stdout.write(s), err: (s) => io.stderr.write(s), stdin: io.stdin ?? process.stdin });
    return EXIT.ok;
  } catch (err) {
    const { message, code } = failure(err);
    io.stderr.write(`isohttpd: ${message}\n`);
    return code;
  }
}
