// `isohttpd lb haproxy`: reads the tenant servers from a running service's API, or (cluster mode) the addresses and nodes from the shared PostgreSQL registry, and writes the front balancer's HAProxy configuration (src/api/lb/haproxy-config.ts) to stdout or a file; with --watch, keeps it current under a running HAProxy (src/api/lb/haproxy-install.ts).

import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyInputError, haproxyConfig, type LbApiNode, type LbNode, type LbServer, NODE_NAME } from '../api/lb/haproxy-config.js';
import { findHaproxy, installConfig, type ReloadOutcome } from '../api/lb/haproxy-install.js';
import { RegistryReadError, RegistryReader } from '../api/lb/registry-source.js';
import { redactUrl, registryEngine } from '../api/registry/engine.js';
import { intOption, parseArgs, stringOption, UsageError } from './args.js';
import { ApiClient, ApiError, DEFAULT_API_URL, UnreachableError } from './client.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { printable } from './table.js';

/** The shortest --watch period, ms (each round is a read of the registry or API, and maybe an haproxy -c). */
export const MIN_WATCH_MS = 100;

/** What `isohttpd lb --help` prints. */
export const LB_USAGE = `usage: isohttpd lb haproxy [--node NAME=ADDR[:APIPORT]]... [--url U] [--token T] [OPTIONS]
       isohttpd lb haproxy --registry URL [OPTIONS]
OPTIONS: [--bind ADDR] [--source ADDR] [--out FILE [--watch MS] [--reload-pid PIDFILE]]

Writes an HAProxy configuration: one \`mode tcp\` frontend per public address (host, port) of the
servers not failed, its backend one \`server\` per node on that port with \`send-proxy-v2\`,
\`balance leastconn\`. Then: haproxy -f FILE. Set the nodes' \`proxyProtocol.from\` to the address
HAProxy connects from.

From the API (GET /servers): each node checked with \`GET /healthz\` on its API port.
  --node NAME=ADDR[:APIPORT]  a node serving the servers on its address ADDR, its API on APIPORT
                              (default the --url's port); repeatable. None: the service at --url
                              itself, serving each server on its own host
  --url U          the API (env ISOHTTPD_URL, default ${DEFAULT_API_URL})
  --token T        tenant token (env ISOHTTPD_TOKEN); a token lists its tenant's servers only

From the registry (cluster mode): every tenant's servers and every node that has not left, read
from the nodes' shared PostgreSQL database (read-only); each backend lists every node, checked by a
TCP connect on that very port: a node is in it while it serves that address, so placements and
failovers need no reload.
  --registry URL   the cluster's postgres:// registry (env ISOHTTPD_REGISTRY_URL, used when none of
                   --node, --url, --token is given)

  --bind ADDR      the address every frontend binds (default: each server's host)
  --source ADDR    the address HAProxy connects to the nodes from (\`source\`; default: the system's)
  --out FILE       write the configuration to FILE (default: stdout)
  --watch MS       with --out: read again every MS ms (at least ${MIN_WATCH_MS}); a changed configuration is
                   checked (haproxy -c), written atomically and HAProxy reloaded; runs until
                   SIGTERM/SIGINT (exit 0). One line per install on stdout, problems on stderr
  --reload-pid PIDFILE  with --out: after writing, reload the master-worker HAProxy whose pid file it
                   is (\`haproxy -W -f FILE -p PIDFILE\`; SIGUSR2: its seamless reload)
  exit codes: 0 ok, 1 API error or a configuration refused, 2 usage, 4 unauthorized,
  6 cannot reach the API or the registry

examples: isohttpd lb haproxy --node a=10.0.0.2 --node b=10.0.0.3 --out /etc/haproxy/haproxy.cfg
          isohttpd lb haproxy --registry postgres://lb@db/isohttpd --out /etc/haproxy/haproxy.cfg \\
            --watch 2000 --reload-pid /run/haproxy.pid
`;

/** Where the output goes. */
export interface LbIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/** `NAME=ADDR[:APIPORT]` (an IPv6 ADDR in brackets when it has a port). @throws UsageError */
export function parseNode(text: string, defaultApiPort: number): LbApiNode {
  const eq = text.indexOf('=');
  const name = text.slice(0, eq);
  const rest = text.slice(eq + 1);
  if (eq < 1 || rest === '') throw new UsageError(`--node ${JSON.stringify(text)} is not NAME=ADDR[:APIPORT]`);
  if (!NODE_NAME.test(name)) throw new UsageError(`--node name ${JSON.stringify(name)} must be letters, digits, '-', '_' or '.' (starting with a letter or digit)`);
  const m = isIP(rest) !== 0 ? [rest, rest] : (/^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(rest) ?? /^([^:]+):(\d{1,5})$/.exec(rest));
  const address = m?.[1];
  if (address === undefined || isIP(address) === 0) throw new UsageError(`--node ${JSON.stringify(text)}: ADDR must be an IP address`);
  const apiPort = m?.[2] === undefined || m[2] === address ? defaultApiPort : Number(m[2]);
  if (apiPort < 1 || apiPort > 65535) throw new UsageError(`--node ${JSON.stringify(text)}: the API port must be 1-65535`);
  return { name, address, apiAddress: address, apiPort };
}

function ipOption(options: ReadonlyMap<string, string | true>, name: string): string | null {
  const v = stringOption(options, name);
  if (v === undefined) return null;
  if (isIP(v) === 0) throw new UsageError(`--${name} ${JSON.stringify(v)} is not an IP address`);
  return v;
}

/** The default port of a URL's scheme when it names none. */
function urlPort(u: URL): number {
  return u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
}

/** Where the servers and nodes come from: the API or the registry. */
interface Source {
  /** For the configuration's header and messages (no password). */
  readonly origin: string;
  /** Whether it is the registry (its install lines count addresses, not servers). */
  readonly registry: boolean;
  /** @throws ApiError, UnreachableError, RegistryReadError */
  read(): Promise<{ readonly servers: readonly LbServer[]; readonly nodes: readonly LbNode[] }>;
  close(): Promise<void>;
}

/** A configuration `haproxy -c` refused (exit 1). */
class RefusedError extends Error {}

/** What the command was asked to do, parsed. */
interface Plan {
  readonly source: Source;
  readonly bindAddress: string | null;
  readonly sourceAddress: string | null;
  readonly out: string | undefined;
  readonly watchMs: number | undefined;
  readonly reloadPid: string | undefined;
  /** The haproxy binary (with --watch or --reload-pid, which check each configuration). */
  readonly haproxy: string | null;
}

/** The API's servers (GET /servers), for the nodes of the --node flags or the service itself. */
function apiSource(options: ReadonlyMap<string, string | true>, nodeTexts: readonly string[], env: NodeJS.ProcessEnv): Source {
  const url = stringOption(options, 'url') ?? (env['ISOHTTPD_URL'] || DEFAULT_API_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`the API URL ${JSON.stringify(url)} is not a URL`);
  }
  const apiHost = parsed.hostname.replace(/^\[|\]$/g, '');
  const nodes: LbNode[] = nodeTexts.map((n) => parseNode(n, urlPort(parsed)));
  const names = new Set(nodes.map((n) => n.name));
  if (names.size !== nodes.length) throw new UsageError('two --node flags have the same name');
  if (nodes.length === 0) {
    if (isIP(apiHost) === 0) throw new UsageError(`without --node the API URL's host must be an IP address (the balancer checks it), not ${JSON.stringify(apiHost)}`);
    nodes.push({ name: 'local', address: null, apiAddress: apiHost, apiPort: urlPort(parsed) });
  }
  const client = new ApiClient(url, stringOption(options, 'token') ?? env['ISOHTTPD_TOKEN']);
  return {
    origin: `${client.url}/servers`,
    registry: false,
    read: async () => {
      const answer = (await client.call('GET', '/servers')) as { servers?: LbServer[] } | null;
      return { servers: answer?.servers ?? [], nodes };
    },
    close: async () => undefined,
  };
}

/** The registry's addresses and nodes (src/api/lb/registry-source.ts). */
function registrySource(url: string, from: string): Source {
  if (registryEngine(url) !== 'postgres') throw new UsageError(`${from} ${JSON.stringify(redactUrl(url))} is not a postgres:// URL (the cluster's shared registry)`);
  const reader = new RegistryReader(url);
  return { origin: `the registry ${reader.origin}`, registry: true, read: () => reader.read(), close: () => reader.close() };
}

/** The command line, checked. @throws UsageError */
function plan(argv: readonly string[], env: NodeJS.ProcessEnv): Plan {
  const [sub, ...rest] = argv;
  if (sub !== 'haproxy') throw new UsageError(sub === undefined ? 'lb needs a balancer: haproxy' : `unknown balancer ${JSON.stringify(sub)} for lb (only haproxy)`);
  // --node is repeatable: taken out before the one-of-each parse of the other options.
  const nodeTexts: string[] = [];
  const others: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    if (a === '--node') {
      const v = rest[++i];
      if (v === undefined || v === '') throw new UsageError('--node needs a value');
      nodeTexts.push(v);
    } else if (a.startsWith('--node=')) nodeTexts.push(a.slice('--node='.length));
    else others.push(a);
  }
  const spec = { out: 'value', bind: 'value', source: 'value', url: 'value', token: 'value', registry: 'value', watch: 'value', 'reload-pid': 'value', help: 'flag' } as const;
  const args = parseArgs(others, spec, 'lb haproxy');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])} for lb haproxy`);
  const apiFlags = nodeTexts.length > 0 || args.options.has('url') || args.options.has('token');
  const registryFlag = stringOption(args.options, 'registry');
  if (registryFlag !== undefined && apiFlags) throw new UsageError('--registry reads the servers and the nodes from the registry: no --node, --url or --token with it');
  const envRegistry = env['ISOHTTPD_REGISTRY_URL'] ?? '';
  const out = stringOption(args.options, 'out');
  const watchMs = intOption(args.options, 'watch');
  const reloadPid = stringOption(args.options, 'reload-pid');
  if (watchMs !== undefined && out === undefined) throw new UsageError('--watch needs --out FILE (the configuration HAProxy reads)');
  if (reloadPid !== undefined && out === undefined) throw new UsageError('--reload-pid needs --out FILE (the configuration HAProxy reads)');
  if (watchMs !== undefined && watchMs < MIN_WATCH_MS) throw new UsageError(`--watch must be at least ${MIN_WATCH_MS} ms, not ${watchMs}`);
  const bindAddress = ipOption(args.options, 'bind');
  const sourceAddress = ipOption(args.options, 'source');
  let haproxy: string | null = null;
  if (watchMs !== undefined || reloadPid !== undefined) {
    haproxy = findHaproxy(env);
    if (haproxy === null) throw new UsageError('haproxy is not installed (none on PATH, no /usr/sbin/haproxy): --watch and --reload-pid check each configuration with haproxy -c', false);
  }
  const source =
    registryFlag !== undefined
      ? registrySource(registryFlag, '--registry')
      : !apiFlags && envRegistry !== ''
        ? registrySource(envRegistry, 'ISOHTTPD_REGISTRY_URL')
        : apiSource(args.options, nodeTexts, env);
  return { source, bindAddress, sourceAddress, out, watchMs, reloadPid, haproxy };
}

/** The configuration of what `source` read now. @throws HaproxyInputError, and the source's errors */
async function generate(p: Plan): Promise<{ text: string; addresses: number; servers: number; nodes: number }> {
  const { servers, nodes } = await p.source.read();
  const text = haproxyConfig({ servers, nodes, bindAddress: p.bindAddress, sourceAddress: p.sourceAddress, origin: p.source.origin });
  return { text, addresses: text.match(/^frontend /gm)?.length ?? 0, servers: servers.filter((s) => s.state !== 'failed').length, nodes: nodes.length };
}

/** The warning for a registry without nodes (a PostgreSQL registry of one service not in cluster mode, or a cluster not started). */
function noNodes(p: Plan, nodes: number): string | null {
  return p.source.registry && nodes === 0 ? `warning: ${p.source.origin} lists no node in cluster_nodes (none joined, or all left): every backend is empty` : null;
}

/** The line of an install: `haproxy: N addresses, M nodes; reloaded pid P`. */
function installLine(addresses: number, nodes: number, out: string, reload: ReloadOutcome | null): string {
  const what = reload === null ? `wrote ${out}` : reload.reloaded ? `reloaded pid ${reload.pid}` : `wrote ${out}, not reloaded: ${reload.reason}`;
  return `haproxy: ${addresses} addresses, ${nodes} nodes; ${what}\n`;
}

/** One configuration, to stdout or --out (checked, installed and HAProxy reloaded with --reload-pid). */
async function once(p: Plan, io: LbIo): Promise<void> {
  const g = await generate(p);
  const warning = noNodes(p, g.nodes);
  if (warning !== null) io.stderr.write(`isohttpd: ${warning}\n`);
  if (p.out === undefined) {
    io.stdout.write(g.text);
    return;
  }
  if (p.reloadPid !== undefined && p.haproxy !== null) {
    let r: Awaited<ReturnType<typeof installConfig>>;
    try {
      r = await installConfig(g.text, p.out, p.haproxy, p.reloadPid);
    } catch (err) {
      throw new UsageError(`cannot write ${p.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
    }
    if (!r.installed) throw new RefusedError(`haproxy -c refused the configuration (left in ${r.pending}; ${p.out} unchanged): ${r.refusal}`);
    io.stdout.write(installLine(g.addresses, g.nodes, p.out, r.reload));
    return;
  }
  try {
    await writeFile(p.out, g.text);
  } catch (err) {
    throw new UsageError(`cannot write ${p.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
  }
  io.stderr.write(p.source.registry ? `wrote ${p.out}: ${g.addresses} addresses, ${g.nodes} nodes\n` : `wrote ${p.out}: ${g.servers} servers, ${g.nodes} nodes\n`);
}

/** A failure of the source in one line, or undefined for anything else (a bug: thrown on). */
function sourceProblem(err: unknown): string | undefined {
  if (err instanceof RegistryReadError || err instanceof UnreachableError) return printable(err.message);
  if (err instanceof ApiError) return `the API answered ${err.status}${err.code === undefined ? '' : ` ${err.code}`}: ${printable(err.message)}`;
  return undefined;
}

/**
 * --watch: a round every `watchMs` ms (the next one `watchMs` after the end of the last) reads,
 * generates, and when the text differs from the one installed last (the first round always
 * installs: whatever HAProxy runs now, it runs this text after) installs it (installConfig:
 * haproxy -c, atomic write, reload). A source that fails is one line on stderr per outage (and one
 * when it answers again); a configuration that cannot be made or that haproxy -c refuses is one
 * line (again only when what is wrong changes); either way the running configuration stays and
 * the next round tries again. SIGTERM or SIGINT ends it: resolves.
 */
async function watch(p: Plan, out: string, watchMs: number, haproxy: string, io: LbIo): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
    // A read waiting on the database ends at once.
    void p.source.close();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let installed: string | null = null;
  /** The last text haproxy -c refused (checked once: the same text is refused again). */
  let refused: string | null = null;
  /** What was logged last as wrong, so that a lasting problem is one line. */
  let problem: string | null = null;
  let sourceDown = false;
  const report = (message: string): void => {
    if (message !== problem) io.stderr.write(`isohttpd: ${message}\n`);
    problem = message;
  };
  const round = async (): Promise<void> => {
    let g: Awaited<ReturnType<typeof generate>>;
    try {
      g = await generate(p);
    } catch (err) {
      if (stop.signal.aborted) return;
      if (err instanceof HaproxyInputError) return report(`cannot make the configuration: ${printable(err.message)}; the running one stays`);
      const what = sourceProblem(err);
      if (what === undefined) throw err;
      // One line per outage: the next rounds' errors (refused, then timed out, …) are the same outage.
      if (!sourceDown) io.stderr.write(`isohttpd: ${what}; the running configuration stays, trying again every ${watchMs} ms\n`);
      sourceDown = true;
      return;
    }
    if (sourceDown) {
      sourceDown = false;
      io.stderr.write(`isohttpd: ${p.source.origin} answers again\n`);
    }
    const warning = noNodes(p, g.nodes);
    if (warning !== null) report(warning);
    if (g.text === installed || g.text === refused) return;
    let r: Awaited<ReturnType<typeof installConfig>>;
    try {
      r = await installConfig(g.text, out, haproxy, p.reloadPid ?? null);
    } catch (err) {
      return report(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; trying again every ${watchMs} ms`);
    }
    if (!r.installed) {
      refused = g.text;
      return report(`haproxy -c refused the new configuration (left in ${r.pending}), the running one stays: ${r.refusal}`);
    }
    installed = g.text;
    refused = null;
    problem = null;
    io.stdout.write(installLine(g.addresses, g.nodes, out, r.reload));
  };
  io.stderr.write(`isohttpd: lb haproxy: reading ${p.source.origin} every ${watchMs} ms into ${out}${p.reloadPid === undefined ? '' : `, reloading the HAProxy of ${p.reloadPid}`}\n`);
  try {
    while (!stop.signal.aborted) {
      await round();
      await sleep(watchMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: LbIo): Promise<void> {
  const p = plan(argv, env);
  try {
    if (p.watchMs !== undefined && p.out !== undefined && p.haproxy !== null) await watch(p, p.out, p.watchMs, p.haproxy, io);
    else await once(p, io);
  } finally {
    await p.source.close();
  }
}

/** Runs `isohttpd lb …` (argv without `lb`); resolves to the exit code (see {@link EXIT}). */
export async function lbCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: LbIo = process): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(LB_USAGE);
    return EXIT.ok;
  }
  try {
    await run(argv, env, io);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) io.stderr.write(`isohttpd: ${err.hint ? `${err.message} (see isohttpd lb --help)` : err.message}\n`);
    else if (err instanceof ApiError) io.stderr.write(`isohttpd: ${err.status}${err.code === undefined ? '' : ` ${err.code}`}: ${printable(err.message)}\n`);
    else if (err instanceof UnreachableError || err instanceof RegistryReadError || err instanceof RefusedError) io.stderr.write(`isohttpd: ${printable(err.message)}\n`);
    else if (err instanceof HaproxyInputError) io.stderr.write(`isohttpd: cannot make the configuration: ${printable(err.message)}\n`);
    else throw err;
    if (err instanceof UsageError) return EXIT.usage;
    if (err instanceof ApiError) return exitCodeForStatus(err.status);
    if (err instanceof RegistryReadError) return err.kind === 'unreachable' ? EXIT.unreachable : err.kind === 'unauthorized' ? EXIT.forbidden : EXIT.apiError;
    return err instanceof UnreachableError ? EXIT.unreachable : EXIT.apiError;
  }
}
