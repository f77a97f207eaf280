// `isohttpd lb haproxy`: reads the tenant servers from a running service's API and writes the front balancer's HAProxy configuration (src/api/lb/haproxy-config.ts) to stdout or a file.

import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { haproxyConfig, type LbNode, type LbServer, NODE_NAME } from '../api/lb/haproxy-config.js';
import { parseArgs, stringOption, UsageError } from './args.js';
import { ApiClient, ApiError, DEFAULT_API_URL, UnreachableError } from './client.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { printable } from './table.js';

/** What `isohttpd lb --help` prints. */
export const LB_USAGE = `usage: isohttpd lb haproxy [--node NAME=ADDR[:APIPORT]]... [--bind ADDR] [--source ADDR] [--out FILE] [--url U] [--token T]

Writes an HAProxy configuration for the servers the API lists (GET /servers; failed ones left out):
one \`mode tcp\` frontend per public address (host, port), its backend one \`server\` per node on that
port with \`send-proxy-v2\` and a health check \`GET /healthz\` on the node's API port, \`balance leastconn\`.
Then: haproxy -f FILE. Set the nodes' \`proxyProtocol.from\` to the address HAProxy connects from.

  --node NAME=ADDR[:APIPORT]  a node serving the servers on its address ADDR, its API on APIPORT
                              (default the --url's port); repeatable. None: the service at --url
                              itself, serving each server on its own host
  --bind ADDR      the address every frontend binds (default: each server's host)
  --source ADDR    the address HAProxy connects to the nodes from (\`source\`; default: the system's)
  --out FILE       write the configuration to FILE (default: stdout)
  --url U          the API (env ISOHTTPD_URL, default ${DEFAULT_API_URL})
  --token T        tenant token (env ISOHTTPD_TOKEN); a token lists its tenant's servers only
  exit codes: 0 ok, 1 API error, 2 usage, 4 unauthorized, 6 cannot reach the API

example: isohttpd lb haproxy --node a=10.0.0.2 --node b=10.0.0.3 --out /etc/haproxy/haproxy.cfg
`;

/** Where the output goes. */
export interface LbIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/** `NAME=ADDR[:APIPORT]` (an IPv6 ADDR in brackets when it has a port). @throws UsageError */
export function parseNode(text: string, defaultApiPort: number): LbNode {
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

async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: LbIo): Promise<void> {
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
  const args = parseArgs(others, { out: 'value', bind: 'value', source: 'value', url: 'value', token: 'value', help: 'flag' }, 'lb haproxy');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])} for lb haproxy`);
  const url = stringOption(args.options, 'url') ?? (env['ISOHTTPD_URL'] || DEFAULT_API_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`the API URL ${JSON.stringify(url)} is not a URL`);
  }
  const apiHost = parsed.hostname.replace(/^\[|\]$/g, '');
  const nodes = nodeTexts.map((n) => parseNode(n, urlPort(parsed)));
  const names = new Set(nodes.map((n) => n.name));
  if (names.size !== nodes.length) throw new UsageError('two --node flags have the same name');
  if (nodes.length === 0) {
    if (isIP(apiHost) === 0) throw new UsageError(`without --node the API URL's host must be an IP address (the balancer checks it), not ${JSON.stringify(apiHost)}`);
    nodes.push({ name: 'local', address: null, apiAddress: apiHost, apiPort: urlPort(parsed) });
  }
  const bindAddress = ipOption(args.options, 'bind');
  const sourceAddress = ipOption(args.options, 'source');
  const client = new ApiClient(url, stringOption(args.options, 'token') ?? env['ISOHTTPD_TOKEN']);
  const answer = (await client.call('GET', '/servers')) as { servers?: LbServer[] } | null;
  const servers = answer?.servers ?? [];
  const text = haproxyConfig({ servers, nodes, bindAddress, sourceAddress, origin: `${client.url}/servers` });
  const out = stringOption(args.options, 'out');
  if (out === undefined) {
    io.stdout.write(text);
    return;
  }
  try {
    await writeFile(out, text);
  } catch (err) {
    throw new UsageError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, false);
  }
  io.stderr.write(`wrote ${out}: ${servers.filter((s) => s.state !== 'failed').length} servers, ${nodes.length} nodes\n`);
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
    else if (err instanceof UnreachableError) io.stderr.write(`isohttpd: ${printable(err.message)}\n`);
    else throw err;
    return err instanceof UsageError ? EXIT.usage : err instanceof ApiError ? exitCodeForStatus(err.status) : EXIT.unreachable;
  }
}
