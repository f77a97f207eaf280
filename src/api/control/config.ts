// Service configuration: flags, environment variables and an optional JSON config file, validated against schemas/config.json at start-up, then frozen.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseCidr } from '../../core/cidr.js';
import { formatAjvError, schemaDefaults, validator } from '../../core/schemas.js';
import { redactUrl, registryEngine } from '../registry/engine.js';

/** The validated, frozen configuration of one `isohttpd serve`. */
export interface Config {
  readonly apiHost: string;
  readonly apiPort: number;
  readonly dataDir: string;
  /** Where the registry is: a `postgres://`/`postgresql://` URL, or '' for SQLite in the data dir (src/api/registry/open.ts). */
  readonly registry: string;
  /** Connections of a PostgreSQL registry's pool, count. */
  readonly registryPoolSize: number;
  /** Cluster mode: this node's name ('' : one node, no cluster). */
  readonly nodeName: string;
  /** Cluster mode: this node's own IP address (placed servers bind there). */
  readonly nodeAddress: string;
  /** Cluster mode's timings, ms (src/api/cluster/cluster-node.ts). */
  readonly cluster: { readonly heartbeatMs: number; readonly leaseMs: number; readonly reconcileMs: number; readonly readyWaitMs: number };
  readonly allowedHosts: readonly string[];
  readonly portMin: number;
  readonly portMax: number;
  /** Ports no tenant server may bind (the API's own port is reserved besides). */
  readonly reservedPorts: readonly number[];
  readonly maxSourceBytes: number;
  /** Sandbox worker processes (resolved: never 0). */
  readonly workers: number;
  /** Ceiling of each worker's resident set, MiB; 0: automatic (see src/host/worker/rss-backstop.ts). */
  readonly workerRssLimitMb: number;
  /** Networks (CIDRs) tenants' outbound fetch may reach although they are in a denied range (src/core/cidr.ts). */
  readonly egressAllowNetworks: readonly string[];
  /** The key file of secrets at rest; '': `secrets.key` in the data dir (src/api/control/secret-box.ts). */
  readonly secretsKeyFile: string;
  /** Default quotas of a tenant. */
  readonly quotas: { readonly maxServers: number; readonly maxSourceBytes: number; readonly memoryMb: number; readonly versionsKept: number };
  /** API requests allowed per token per window. */
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
  /** Virtual hosts: whether tenants may share an address, and the servers answering a shared address's unclaimed Hosts. */
  readonly virtualHosts: { readonly crossTenant: boolean; readonly fallbackServers: readonly number[] };
  /** The PROXY protocol on tenant listeners: connections from the balancers' networks `from` (CIDRs) must start with a v2 header (src/host/worker/proxy-gate.ts). */
  readonly proxyProtocol: { readonly from: readonly string[] };
}

/** A configuration that cannot be used; its message says which option and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const FLAG_TO_KEY = {
  'api-host': 'apiHost',
  'api-port': 'apiPort',
  'data-dir': 'dataDir',
  registry: 'registry',
  workers: 'workers',
  'node-name': 'nodeName',
  'node-address': 'nodeAddress',
} as const;
const ENV_TO_KEY = {
  ISOHTTPD_API_HOST: 'apiHost',
  ISOHTTPD_API_PORT: 'apiPort',
  ISOHTTPD_DATA_DIR: 'dataDir',
  ISOHTTPD_REGISTRY_URL: 'registry',
  ISOHTTPD_WORKERS: 'workers',
  ISOHTTPD_NODE_NAME: 'nodeName',
  ISOHTTPD_NODE_ADDRESS: 'nodeAddress',
} as const;
const INTEGER_KEYS = new Set(['apiPort', 'workers']);
/** Object-valued options: a config file's value is merged over the defaults key by key. */
const NESTED_KEYS = new Set(['quotas', 'rateLimit', 'virtualHosts', 'proxyProtocol', 'cluster']);

function coerce(key: string, raw: string, from: string): unknown {
  if (!INTEGER_KEYS.has(key)) return raw;
  if (!/^\d{1,10}$/.test(raw)) throw new ConfigError(`${from} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${JSON.stringify(file)} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`--config ${JSON.stringify(file)} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration from command-line flags (`--api-host`, `--api-port`, `--data-dir`,
 * `--registry`, `--workers`, `--node-name`, `--node-address`), then environment variables, then the config file (`--config FILE` or
 * `ISOHTTPD_CONFIG`), then the schema defaults: flags win over the environment, which wins over the file.
 * @throws ConfigError naming the offending flag, variable or config key.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'api-host': { type: 'string' },
        'api-port': { type: 'string' },
        'data-dir': { type: 'string' },
        registry: { type: 'string' },
        workers: { type: 'string' },
        'node-name': { type: 'string' },
        'node-address': { type: 'string' },
        config: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const raw: Record<string, unknown> = schemaDefaults('config');
  const file = parsed.values.config ?? (env['ISOHTTPD_CONFIG'] === '' ? undefined : env['ISOHTTPD_CONFIG']);
  if (file !== undefined) {
    for (const [key, value] of Object.entries(readConfigFile(file))) {
      const base = raw[key];
      const mergeable = NESTED_KEYS.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value) && typeof base === 'object';
      raw[key] = mergeable ? { ...(base as object), ...value } : value;
    }
  }
  for (const [name, key] of Object.entries(ENV_TO_KEY)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = coerce(key, value, name);
  }
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = parsed.values[flag as keyof typeof FLAG_TO_KEY];
    if (value !== undefined) raw[key] = coerce(key, value, `--${flag}`);
  }
  const validate = validator<Config>('config');
  if (!validate(raw)) throw new ConfigError(formatAjvError(validate.errors, 'config'));
  if (raw.portMin > raw.portMax) throw new ConfigError('config.portMin must not be greater than config.portMax');
  for (const [i, n] of raw.egressAllowNetworks.entries())
    if (parseCidr(n) === null) throw new ConfigError(`config.egressAllowNetworks["${i}"] ${JSON.stringify(n)} is not a CIDR range (a.b.c.d/n or an IPv6 address/n)`);
  if (registryEngine(raw.registry) === undefined)
    throw new ConfigError(`config.registry ${JSON.stringify(redactUrl(raw.registry))} is not a registry: give a postgres:// or postgresql:// URL, or nothing for SQLite in the data dir`);
  for (const [i, n] of raw.proxyProtocol.from.entries())
    if (parseCidr(n) === null) throw new ConfigError(`config.proxyProtocol.from["${i}"] ${JSON.stringify(n)} is not a CIDR range (a.b.c.d/n or an IPv6 address/n)`);
  if (raw.nodeName !== '' || raw.nodeAddress !== '') {
    if (raw.nodeName === '') throw new ConfigError('config.nodeAddress needs config.nodeName (--node-name): cluster mode names each node');
    if (isIP(raw.nodeAddress) === 0) throw new ConfigError(`config.nodeAddress ${JSON.stringify(raw.nodeAddress)} must be this node's own IP address (--node-address) in cluster mode`);
    if (registryEngine(raw.registry) !== 'postgres') throw new ConfigError('config.nodeName (cluster mode) needs a PostgreSQL registry shared by the nodes: --registry postgres://…');
    if (raw.cluster.leaseMs <= 2 * raw.cluster.heartbeatMs)
      throw new ConfigError(
        `config.cluster.leaseMs (${raw.cluster.leaseMs}) must be more than twice config.cluster.heartbeatMs (${raw.cluster.heartbeatMs}): one late heartbeat must not lose a node its servers`,
      );
  }
  const workers = raw.workers === 0 ? Math.min(availableParallelism(), 64) : raw.workers;
  return Object.freeze({
    ...raw,
    workers,
    allowedHosts: Object.freeze([...raw.allowedHosts]),
    reservedPorts: Object.freeze([...raw.reservedPorts]),
    egressAllowNetworks: Object.freeze([...raw.egressAllowNetworks]),
    quotas: Object.freeze({ ...raw.quotas }),
    rateLimit: Object.freeze({ ...raw.rateLimit }),
    virtualHosts: Object.freeze({ ...raw.virtualHosts, fallbackServers: Object.freeze([...raw.virtualHosts.fallbackServers]) }),
    proxyProtocol: Object.freeze({ from: Object.freeze([...raw.proxyProtocol.from]) }),
    cluster: Object.freeze({ ...raw.cluster }),
  });
}
