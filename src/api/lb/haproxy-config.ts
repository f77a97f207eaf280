// The HAProxy configuration of the front balancer, as text, from the tenant servers and the nodes serving them: one `mode tcp` frontend per public address, its backend the nodes, with health checks and `send-proxy-v2`. Pure: no I/O.

import { isIP } from 'node:net';

/** A tenant server as the API lists it (schemas/server.json), or an address the registry holds: only what the balancer needs. */
export interface LbServer {
  /** Named in the frontend's comment; absent (registry mode reads addresses only) the text does not change when a server joins or leaves an address already served. */
  readonly httpdid?: number;
  /** The public address's host (the cluster's address; on one node, the address it binds). */
  readonly host: string;
  /** The public port; each node serves it on the same port of its own address. */
  readonly port: number;
  /** `running`, `failed`, … (failed servers are left out: no node serves them). */
  readonly state: string;
}

/** A node checked with `GET /healthz` on its control API (`--node` flags, or the service at `--url`): in every backend, up while its API answers. */
export interface LbApiNode {
  /** The node's name (`server` name in HAProxy: {@link NODE_NAME}). */
  readonly name: string;
  readonly check?: 'healthz';
  /** The node's own address its tenant servers listen on; null: each server's own host (the local service, one node). */
  readonly address: string | null;
  /** Where its control API (and `GET /healthz`) answers. */
  readonly apiAddress: string;
  readonly apiPort: number;
}

/**
 * A node checked by a plain TCP connect on each server's own port of its address (cluster mode,
 * the nodes of the registry's `cluster_nodes`): in a backend exactly while it accepts there, that
 * is while the cluster has placed that address on it and it serves it.
 */
export interface LbConnectNode {
  readonly name: string;
  readonly check: 'connect';
  /** The node's own address (an IP address): every server placed on it binds its port there. */
  readonly address: string;
}

/** A node the balancer sends to; every node of one configuration has the same kind of check (HAProxy's `option httpchk` is per backend). */
export type LbNode = LbApiNode | LbConnectNode;

/** What the configuration is made from. */
export interface HaproxyInput {
  readonly servers: readonly LbServer[];
  readonly nodes: readonly LbNode[];
  /** The address the frontends bind instead of each server's host (one machine: the balancer's own loopback address); null: the server's host. */
  readonly bindAddress: string | null;
  /** The address HAProxy connects to the nodes from (`source`): the one to list in the nodes' `proxyProtocol.from`; null: the system's choice. */
  readonly sourceAddress: string | null;
  /** Where the servers were read from, for the header comment (no password in it). */
  readonly origin: string;
}

/** An input no configuration can be made of (a name or host HAProxy would misread, two kinds of check, …). */
export class HaproxyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaproxyInputError';
  }
}

/** Interval between two health checks of a node, ms; a node is out after FALL failed checks, back after RISE good ones. */
export const CHECK_INTERVAL_MS = 2000;
const FALL = 2;
const RISE = 2;

/** A node name HAProxy takes as a server name (configuration.txt §2.2: identifiers are letters, digits, '-', '_', '.', ':'), ':' left out. */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** A host that stays one word of the configuration (an IP address, a bracketed one, a DNS name): no blank, `#`, quote or line break can end up in the text. */
const HOST_TOKEN = /^[A-Za-z0-9._:%[\]-]{1,255}$/;

/** `host:port` in HAProxy's address syntax: an IPv6 host with the `ipv6@` prefix (configuration.txt §11.1: the port follows the last colon). */
export function haproxyAddress(host: string, port: number): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.includes(':') ? `ipv6@${h}:${port}` : `${h}:${port}`;
}

/** The sections' name for an address: `127_0_0_10_8080` (no ':' or '.', which HAProxy's logs and stats read poorly). */
function sectionName(host: string, port: number): string {
  return `${host.replace(/[^A-Za-z0-9]/g, '_')}_${port}`;
}

/** One frontend: a bind address and port, the public addresses it stands for, their servers. */
interface Frontend {
  readonly bindHost: string;
  readonly port: number;
  /** The public hosts on that port (several only when `bindAddress` folds them onto one), sorted. */
  readonly hosts: string[];
  readonly httpdids: number[];
}

/** Checks what goes into the text word for word. @throws HaproxyInputError */
function validate(input: HaproxyInput): void {
  const names = new Set<string>();
  for (const n of input.nodes) {
    if (!NODE_NAME.test(n.name)) throw new HaproxyInputError(`node name ${JSON.stringify(n.name)} is not an HAProxy server name (letters, digits, '-', '_', '.', starting with a letter or digit)`);
    if (names.has(n.name)) throw new HaproxyInputError(`two nodes are named ${JSON.stringify(n.name)}`);
    names.add(n.name);
    if (n.check === 'connect' && isIP(n.address) === 0) throw new HaproxyInputError(`node ${n.name}'s address ${JSON.stringify(n.address)} is not an IP address`);
  }
  if (new Set(input.nodes.map((n) => n.check ?? 'healthz')).size > 1) throw new HaproxyInputError('the nodes mix checks: all GET /healthz (API) or all TCP connects (registry)');
  for (const s of input.servers) if (!HOST_TOKEN.test(s.host)) throw new HaproxyInputError(`server host ${JSON.stringify(s.host)} is not an address`);
}

/** The frontends of the servers not failed, keyed by what they bind, sorted by bind host then port. @throws HaproxyInputError when two hosts folded onto one bind would need different backends */
function frontends(input: HaproxyInput): Frontend[] {
  const byBind = new Map<string, Frontend>();
  for (const s of input.servers) {
    if (s.state === 'failed') continue;
    const bindHost = input.bindAddress ?? s.host;
    const key = `${bindHost}|${s.port}`;
    let f = byBind.get(key);
    if (f === undefined) {
      f = { bindHost, port: s.port, hosts: [], httpdids: [] };
      byBind.set(key, f);
    }
    if (!f.hosts.includes(s.host)) f.hosts.push(s.host);
    if (s.httpdid !== undefined) f.httpdids.push(s.httpdid);
  }
  const out = [...byBind.values()].sort((a, b) => (a.bindHost === b.bindHost ? a.port - b.port : a.bindHost < b.bindHost ? -1 : 1));
  for (const f of out) {
    f.hosts.sort();
    f.httpdids.sort((x, y) => x - y);
    // A node serving each server on the server's own host (address null) has one backend per host: two hosts behind one bind cannot share it.
    if (f.hosts.length > 1 && input.nodes.some((n) => n.address === null))
      throw new HaproxyInputError(
        `${f.hosts.map((h) => haproxyAddress(h, f.port)).join(' and ')} would both be bound at ${haproxyAddress(f.bindHost, f.port)} (--bind), served by different addresses`,
      );
  }
  return out;
}

/**
 * The configuration: `global` and `defaults` (mode tcp; timeouts above the largest the tenant
 * limits allow, so that isohttpd's own limits, not the balancer, end slow requests), then for each
 * distinct public `(host, port)` of the servers not failed a `frontend` binding it (with
 * `bindAddress`, the public hosts sharing a port share its one frontend) and a `backend` with one
 * `server` per node, `send-proxy-v2` (the nodes' `proxyProtocol.from` must list the source
 * address), `balance leastconn`, checked as the nodes say:
 *
 * - `healthz` nodes: `GET /healthz` on the node's API port (a node is up or down as a whole);
 * - `connect` nodes (cluster mode): a plain TCP connect on the server's very port of the node's
 *   address, and every node in every backend. A node binds that port exactly while the cluster has
 *   placed one of the address's servers on it, so it is in the backend exactly while it serves the
 *   address: placements change and fail over with no new configuration and no reload (only a new
 *   address or node needs one). A /healthz check would say a node is alive, not that it serves this
 *   port, and a placement-aware configuration would need a reload at each failover.
 *
 * Output is sorted (by bind host, then port; nodes as given), so the same input gives the same text.
 * @throws HaproxyInputError for an input no configuration can be made of
 */
export function haproxyConfig(input: HaproxyInput): string {
  validate(input);
  const sorted = frontends(input);
  const connect = input.nodes.length > 0 && input.nodes.every((n) => n.check === 'connect');
  const out: string[] = [
    `# HAProxy configuration written by \`isohttpd lb haproxy\` from ${input.origin}:`,
    connect
      ? `# ${sorted.length} public addresses, ${input.nodes.length} nodes. Each node is checked by a TCP connect on each port: placements and failovers need no reload; new addresses and nodes do (--watch).`
      : `# ${sorted.length} public addresses, ${input.nodes.length} nodes. Regenerate it when servers are added or removed.`,
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
  for (const f of sorted) {
    const name = sectionName(f.hosts[0] ?? f.bindHost, f.port);
    const at = f.hosts.map((h) => haproxyAddress(h, f.port)).join(', ');
    out.push(
      '',
      f.httpdids.length > 0 ? `# servers ${f.httpdids.join(', ')} at ${at}` : `# ${at}`,
      `frontend fe_${name}`,
      `    bind ${haproxyAddress(f.bindHost, f.port)}`,
      `    default_backend be_${name}`,
      '',
      `backend be_${name}`,
      // Keep-alive connections and streamed responses last long: the node with fewest open connections gets the next one.
      '    balance leastconn',
    );
    if (connect) {
      out.push(
        // Most nodes of a backend do not serve its address, and right after a reload every node counts as
        // up until its first check (HAProxy 2.6 has no initial state down): a connection a node refuses marks
        // it down at once (observe layer4, mark-down), and each retry goes to another node (redispatch 1,
        // without the turn-around pause a retry on the same server waits), up to as many tries as nodes.
        '    option redispatch 1',
        `    retries ${Math.max(2, input.nodes.length - 1)}`,
        // No `option httpchk` and no `port`/`addr`: the check is a TCP connect to the server line's own
        // address and port. With neither `port` nor `addr`, HAProxy sends the PROXY v2 header on its checks
        // too (configuration.txt, check-send-proxy): a LOCAL one, which the node's PROXY gate takes as its
        // own connection, so a check is never counted as a refused header; the check is up at the connect.
        `    default-server inter ${CHECK_INTERVAL_MS}ms fall ${FALL} rise ${RISE} send-proxy-v2 observe layer4 error-limit 1 on-error mark-down`,
      );
      for (const n of input.nodes) out.push(`    server ${n.name} ${haproxyAddress(n.address ?? f.bindHost, f.port)} check`);
      continue;
    }
    out.push('    option httpchk GET /healthz', '    http-check expect status 200', `    default-server inter ${CHECK_INTERVAL_MS}ms fall ${FALL} rise ${RISE} send-proxy-v2`);
    for (const n of input.nodes) {
      if (n.check === 'connect') continue;
      const serving = n.address ?? f.hosts[0] ?? f.bindHost;
      const addr = n.apiAddress === serving ? '' : ` addr ${n.apiAddress}`;
      out.push(`    server ${n.name} ${haproxyAddress(serving, f.port)} check${addr} port ${n.apiPort}`);
    }
  }
  return `${out.join('\n')}\n`;
}
