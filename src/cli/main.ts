// The `isohttpd` command past the runtime check (src/cli.ts): `serve` starts the control process (API + tenant listeners) and its sandbox workers; `tenant` manages tenants; the client commands are in cli/.

import { devCommand } from './dev.js';
import { SecretBox } from '../api/control/secret-box.js';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../api/control/config.js';
import { DataDirInUse, DataDirLock } from '../api/control/data-dir-lock.js';
import type { Registry } from '../api/registry/registry.js';
import type { ClusterOptions } from '../api/control/server-manager.js';
import { DRAIN_TIMEOUT_MS } from '../core/supervision.js';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from './commands.js';
import { lbCommand } from './lb.js';
import { TENANT_USAGE, tenantCommand } from './tenant.js';

const USAGE = `usage: isohttpd serve [--config FILE] [--api-host H] [--api-port P] [--data-dir D] [--registry URL] [--workers N] [--node-name N --node-address A]
       isohttpd tenant add|ls|rm ...   (isohttpd tenant --help)
       isohttpd lb haproxy [--registry URL | --node NAME=ADDR[:APIPORT]]... [--out FILE [--watch MS] [--reload-pid F]]   (isohttpd lb --help)

  --config FILE  JSON config file, keys as in schemas/config.json (env ISOHTTPD_CONFIG); flags and env win over it
  --api-host H   address of the control API (env ISOHTTPD_API_HOST, default 127.0.0.1)
  --api-port P   port of the control API, 0 for any free one (env ISOHTTPD_API_PORT, default 7070)
  --data-dir D   state directory (env ISOHTTPD_DATA_DIR, default ./data)
  --registry URL the registry: a postgres:// URL shared by several nodes (env ISOHTTPD_REGISTRY_URL), default SQLite in the data dir
  --workers N    sandbox worker processes (env ISOHTTPD_WORKERS, default one per CPU)
  --node-name N  cluster mode: this node's name among the nodes sharing a postgres:// registry (env ISOHTTPD_NODE_NAME)
  --node-address A  cluster mode: this node's own IP address, where placed servers bind (env ISOHTTPD_NODE_ADDRESS)
`;

/** Cluster mode's options: the store on the PostgreSQL registry's pool, this node, the timings (loaded only in cluster mode). */
async function clusterOptions(config: Config, registry: Registry): Promise<ClusterOptions> {
  const [{ PostgresRegistry }, { ClusterStore }] = await Promise.all([import('../api/registry/postgres.js'), import('../api/cluster/cluster-store.js')]);
  if (!(registry instanceof PostgresRegistry)) throw new StartError('cluster mode needs a PostgreSQL registry (--registry postgres://…)');
  return { store: new ClusterStore(registry.pool), url: config.registry, nodeName: config.nodeName, nodeAddress: config.nodeAddress, timings: config.cluster };
}

/** A refusal to start that is the operator's to fix (exit 2, one line). */
class StartError extends Error {}

/**
 * Binds the API address (when a fixed port is asked for) and holds it, so that start-up refuses an
 * address in use before it restores any server; null for port 0 (any free port).
 */
function holdAddress(host: string, port: number): Promise<net.Server | null> {
  if (port === 0) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error('address already in use') : err));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

/** API request bodies may exceed the source limit by this much (JSON quoting and the other fields), bytes. */
const BODY_OVERHEAD = 64 * 1024;

async function serve(config: Config): Promise<void> {
  // Loaded here so that the other commands start fast (fastify, the pool and the manager are serve's alone).
  const [{ buildApp }, { DEFAULT_TENANT, isLoopback }, { openRegistry, describeRegistry, RegistryOpenError }, { ServerManager }] = await Promise.all([
    import('../api/http/app.js'),
    import('../api/http/auth.js'),
    import('../api/registry/open.js'),
    import('../api/control/server-manager.js'),
  ]);
  const logger = { level: process.env['ISOHTTPD_LOG_LEVEL'] ?? 'info' };
  const dataDir = path.resolve(config.dataDir);
  const openTenant = isLoopback(config.apiHost);
  // Before the registry is touched: one instance per data dir.
  let lock: DataDirLock;
  try {
    lock = DataDirLock.acquire(dataDir, config.dataDir);
  } catch (err) {
    if (err instanceof DataDirInUse) throw new StartError(err.message);
    throw err;
  }
  // A stop asked for while the service starts (restoring its servers) is carried out once it has
  // started: the same drain, exit 0 (the default action would kill it mid-restore, exit 143).
  let stopAsked: string | null = null;
  const askStop = (signal: string) => (): void => {
    stopAsked ??= signal;
  };
  const earlyHandlers = [
    ['SIGTERM', askStop('SIGTERM')],
    ['SIGINT', askStop('SIGINT')],
  ] as const;
  for (const [signal, handler] of earlyHandlers) process.on(signal, handler);
  // And before any server is restored: the API address is free (held until the API listens on it).
  const apiHold = await holdAddress(config.apiHost, config.apiPort).catch((err: unknown) => {
    lock.release();
    throw new StartError(`the API address ${config.apiHost}:${config.apiPort} is not available: ${(err as Error).message}`);
  });
  let registry: Registry;
  try {
    registry = await openRegistry(config);
  } catch (err) {
    apiHold?.close();
    lock.release();
    if (err instanceof RegistryOpenError) throw new StartError(err.message);
    throw err;
  }
  if (!openTenant && !(await registry.hasTenants())) {
    await registry.close();
    const where = config.registry === '' ? `--data-dir ${config.dataDir}` : '--registry URL';
    throw new StartError(`the API would listen on ${config.apiHost}, which is not loopback, and no tenant exists: add one first with \`isohttpd tenant add NAME ${where}\``);
  }
  let app: ReturnType<typeof buildApp> | undefined;
  // What is logged before the API's logger exists (the pool's start, every restore decision) is kept and written once it does.
  const early: Array<[level: 'info' | 'warn' | 'error', obj: object, msg: string]> = [];
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (o: object, m: string): void => {
      if (app === undefined) early.push([level, o, m]);
      else app.log[level](o, m);
    };
  const log = { info: at('info'), warn: at('warn'), error: at('error') };
  let secrets: SecretBox;
  try {
    secrets = SecretBox.open(config.dataDir, config.secretsKeyFile === '' ? undefined : config.secretsKeyFile);
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  // Every stored server is bound and deployed again before the API listens.
  const manager = await ServerManager.start({
    registry,
    maxSourceBytes: config.maxSourceBytes,
    quotas: config.quotas,
    workers: config.workers,
    workerRssLimitMb: config.workerRssLimitMb,
    egressAllowNetworks: config.egressAllowNetworks,
    proxyProtocolFrom: config.proxyProtocol.from,
    secrets,
    policy: {
      allowedHosts: config.allowedHosts,
      portMin: config.portMin,
      portMax: config.portMax,
      reservedPorts: config.reservedPorts,
      apiAddress: config.apiHost,
      apiPort: config.apiPort,
      crossTenant: config.virtualHosts.crossTenant,
      fallbackServers: config.virtualHosts.fallbackServers,
    },
    log,
    ...(config.nodeName === '' ? {} : { cluster: await clusterOptions(config, registry) }),
  });
  // JSON-quoting can grow a source up to six-fold (\u00XX escapes); the source limit itself is checked on the decoded string.
  app = buildApp({ manager, registry, openTenant, rateLimit: config.rateLimit, bodyLimit: config.maxSourceBytes * 6 + BODY_OVERHEAD, logger });
  for (const [level, o, m] of early.splice(0)) app.log[level](o, m);
  try {
    await new Promise<void>((resolve) => (apiHold === null ? resolve() : apiHold.close(() => resolve())));
    await app.listen({ host: config.apiHost, port: config.apiPort });
  } catch (err) {
    await manager.close();
    await registry.close();
    lock.release();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.apiPort;
  manager.setApiAddress(config.apiHost, port);
  const host = config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost;
  const url = `http://${host}:${port}`;
  if (!(await registry.hasTenants())) {
    process.stdout.write(
      `isohttpd: no tenant exists, so the API is open (no token needed) on loopback as tenant "${DEFAULT_TENANT}"; ` +
        `\`isohttpd tenant add NAME\` turns on tokens at once (\`tenant add ${DEFAULT_TENANT}\` keeps these servers)\n`,
    );
  }
  if (manager.clustered) {
    try {
      await manager.joinCluster(url);
    } catch (err) {
      await app.close();
      await manager.close();
      await registry.close();
      lock.release();
      throw new StartError(`cannot join the cluster as node ${config.nodeName}: ${(err as Error).message}`);
    }
  }
  const { running, failed } = manager.states();
  const restored = `${running} servers restored${failed === 0 ? '' : `, ${failed} not serving (isohttpd ls shows why)`}`;
  // With tenants, every call needs a token: the hint says so.
  const auth = (await registry.hasTenants()) ? ` -H "authorization: Bearer $ISOHTTPD_TOKEN"` : '';
  process.stdout.write(
    `isohttpd API listening on ${url} (Node.js ${process.versions.node}, data dir ${dataDir}, registry: ${describeRegistry(config)}, ${config.workers} sandbox workers, ${restored})\n` +
      `try: curl -s ${url}/servers${auth} -H 'content-type: application/json' -d "$(node -e 'console.log(JSON.stringify({host: "127.0.0.1", port: 8080, source: require("fs").readFileSync("examples/hello.js", "utf8")}))')" && curl -s http://127.0.0.1:8080/\n`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app?.log.info({ signal }, 'stopping');
    void (async () => {
      // Stop accepting everywhere; API requests and tenant requests in flight finish (the latter for at most DRAIN_TIMEOUT_MS).
      await Promise.all([app?.close(), manager.drain(DRAIN_TIMEOUT_MS)]);
      await manager.close();
      // Every acknowledged write is already committed; this checkpoints SQLite's WAL and closes the file (or PostgreSQL's connections).
      await registry.close();
      lock.release();
      app?.log.info({ signal }, 'stopped');
      process.exit(0);
    })().catch((err: unknown) => {
      process.stderr.write(`isohttpd: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  for (const [signal, handler] of earlyHandlers) process.off(signal, handler);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (stopAsked !== null) stop(stopAsked);
}

/** This package's version (package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + CLIENT_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`isohttpd ${packageVersion()} (Node.js ${process.versions.node})\n`);
    return 0;
  }
  if (command === 'serve' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'tenant') {
    if (rest[0] === '--help' || rest[0] === '-h') {
      process.stdout.write(TENANT_USAGE);
      return 0;
    }
    return tenantCommand(rest, process.env);
  }
  if (command === 'dev') return devCommand(rest);
  if (command === 'lb') return lbCommand(rest);
  if (CLIENT_COMMANDS.has(command)) return runClientCommand(argv);
  if (command !== 'serve') {
    process.stderr.write(`isohttpd: unknown command ${JSON.stringify(command)}\n${USAGE}${CLIENT_USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(rest, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`isohttpd: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    await serve(config);
  } catch (err) {
    if (err instanceof StartError) {
      process.stderr.write(`isohttpd: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return -1;
}

/** Runs the command line `argv` (without node and the script); exits with its code, or keeps serving. */
export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`isohttpd: ${e.code === 'EADDRINUSE' ? `the API address is already in use (${e.message})` : e.message}\n`);
      process.exit(1);
    },
  );
}
