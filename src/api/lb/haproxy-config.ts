// The HAProxy configuration of the front balancer, as text, from the tenant servers and the nodes serving them: one `mode tcp` frontend per public address, its backend the nodes, with health checks and `send-proxy-v2`. Pure: no I/O.

/** A tenant server as the API lists it (schemas/server.json): only what the balancer needs. */
export interface LbServer {
  readonly httpdid: number;
  /** The public address's host (the cluster's address; on one node, the address it binds). */
  readonly host: string;
  /** The public port; each node serves it on the same port of its own address. */
  readonly port: number;
  /** `running`, `failed`, … (failed servers are left out: no node serves them). */
  readonly state: string;
}

/** A node the balancer sends to. */
export interface LbNode {
  /** The node's name (`server` name in HAProxy: letters, digits, `-`, `_`, `.`). */
  readonly name: string;
  /** The node's own address its tenant servers listen on; null: each server's own host (the local service, one node). */
  readonly address: string | null;
  /** Where its control API (and `GET /healthz`) answers. */
  readonly apiAddress: string;
  readonly apiPort: number;
}

/** What the configuration is made from. */
export interface HaproxyInput {
  readonly servers: readonly LbServer[];
  readonly nodes: readonly LbNode[];
  /** The address the frontends bind instead of each server's host (one machine: the balancer's own loopback address); null: the server's host. */
  readonly bindAddress: string | null;
  /** The address HAProxy connects to the nodes from (`source`): the one to list in the nodes' `proxyProtocol.from`; null: the system's choice. */
  readonly sourceAddress: string | null;
  /** Where the servers were read from, for the header comment. */
  readonly origin: string;
}

/** Interval between two health checks of a node, ms; a node is out after FALL failed checks, back after RISE good ones. */
export const CHECK_INTERVAL_MS = 2000;
const FALL = 2;
const RISE = 2;

/** A node name HAProxy takes as a server name (configuration.txt §2.2: identifiers are letters, digits, '-', '_', '.', ':'), ':' left out. */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** `host:port` in HAProxy's address syntax: an IPv6 host with the `ipv6@` prefix (configuration.txt §11.1: the port follows the last colon). */
export function haproxyAddress(host: string, port: number): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.includes(':') ? `ipv6@${h}:${port}` : `${h}:${port}`;
}

/** The sections' name for an address: `127_0_0_10_8080` (no ':' or '.', which HAProxy's logs and stats read poorly). */
function sectionName(host: string, port: number): string {
  return `${host.replace(/[^A-Za-z0-9]/g, '_')}_${port}`;
}

/**
 * The configuration: `global` and `defaults` (mode tcp; timeouts above the largest the tenant
 * limits allow, so that isohttpd's own limits, not the balancer, end slow requests), then for each
 * distinct public `(host, port)` of the servers not failed a `frontend` binding it and a `backend`
 * with one `server` per node: `send-proxy-v2` (the nodes' `proxyProtocol.from` must list the
 * source address), checked with `GET /healthz` on the node's API port, `balance leastconn`.
 * Output is sorted (by host, then port; nodes as given), so the same input gives the same text.
 */
export function haproxyConfig(input: HaproxyInput): string {
  const addresses = new Map<string, { host: string; port: number; httpdids: number[] }>();
  for (const s of input.servers) {
    if (s.state === 'failed') continue;
    const key = `${s.host}|${s.port}`;
    const entry = addresses.get(key) ?? { host: s.host, port: s.port, httpdids: [] };
    entry.httpdids.push(s.httpdid);
    addresses.set(key, entry);
  }
  const sorted = [...addresses.values()].sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  const out: string[] = [
    `# HAProxy configuration written by \`isohttpd lb haproxy\` from ${input.origin}:`,
    `# ${sorted.length} public addresses, ${input.nodes.length} nodes. Regenerate it when servers are added or removed.`,
    '',
    'global',
    '    log stdout format raw local0',
    // No maxconn: HAProxy derives it from the file-descriptor limit it runs under (raise that rather than set a number here).
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option tcplog',
    '    option dontlognull',
    // A node that refuses a connection (its server moved or failed) costs a retry on another node, not the client's connection.
    '    option redispatch',
    '    retries 2',
    '    timeout connect 5s',
    // Above the largest headersTimeoutMs/requestTimeoutMs/responseTimeoutMs (600 s) and keepAliveTimeoutMs (120 s) of schemas/limits.json.
    '    timeout client 11m',
    '    timeout server 11m',
    '    timeout client-fin 30s',
    '    timeout server-fin 30s',
    '    timeout queue 5s',
    '    timeout check 3s',
    ...(input.sourceAddress === null ? [] : [`    source ${input.sourceAddress}`]),
  ];
  for (const a of sorted) {
    const name = sectionName(a.host, a.port);
    const bindHost = input.bindAddress ?? a.host;
    out.push(
      '',
      `# servers ${a.httpdids.sort((x, y) => x - y).join(', ')} at ${haproxyAddress(a.host, a.port)}`,
      `frontend fe_${name}`,
      `    bind ${haproxyAddress(bindHost, a.port)}`,
      `    default_backend be_${name}`,
      '',
      `backend be_${name}`,
      // Keep-alive connections and streamed responses last long: the node with fewest open connections gets the next one.
      '    balance leastconn',
      '    option httpchk GET /healthz',
      '    http-check expect status 200',
      `    default-server inter ${CHECK_INTERVAL_MS}ms fall ${FALL} rise ${RISE} send-proxy-v2`,
    );
    for (const n of input.nodes) {
      const serving = n.address ?? a.host;
      const addr = n.apiAddress === serving ? '' : ` addr ${n.apiAddress}`;
      out.push(`    server ${n.name} ${haproxyAddress(serving, a.port)} check${addr} port ${n.apiPort}`);
    }
  }
  return `${out.join('\n')}\n`;
}
