// Test helper: a real cluster on loopback: a throwaway PostgreSQL registry and N isohttpd nodes as separate processes on 127.0.0.2, 127.0.0.3, … (each its API and tenant listeners on its own address), sharing a secrets key; the cluster's public address is 127.0.0.10 (where a balancer binds).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type PostgresCluster, startPostgres } from './postgres.js';
import { type Service, startService, type Teardown, tempDataDir } from './service.js';
import { until } from './until.js';

const CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js');

/** The cluster's public address (tenant servers' host; the balancer binds it). */
export const PUBLIC_HOST = '127.0.0.10';
/** Short timings so that the tests move fast (ms): heartbeat, lease, full reconcile, wait for reports. */
export const TEST_TIMING = { heartbeatMs: 200, leaseMs: 1500, reconcileMs: 2000, readyWaitMs: 15000 } as const;

/** One node of a test cluster. */
export interface TestNode {
  readonly name: string;
  /** Its own address (API and placed servers). */
  readonly address: string;
  /** The running process, replaced by {@link restart}. */
  service: Service;
  /** Starts it again (same name, address and data dir) after it stopped or was killed. */
  restart(): Promise<void>;
}

/** A running test cluster. */
export interface TestCluster {
  readonly pg: PostgresCluster;
  readonly registryUrl: string;
  readonly nodes: TestNode[];
  /** The config file every node reads (allowedHosts: the public address; the timings). */
  readonly configFile: string;
}

/** Starts PostgreSQL and `n` nodes (named a, b, c, …), resolving once every node has joined (GET /cluster lists them all live). */
export async function startCluster(t: Teardown, n: number, config: Record<string, unknown> = {}): Promise<TestCluster> {
  const pg = await startPostgres(t);
  const registryUrl = await pg.createDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'isohttpd-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = path.join(dir, 'secrets.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ allowedHosts: [PUBLIC_HOST], secretsKeyFile: keyFile, workers: 1, cluster: TEST_TIMING, ...config }));
  const nodes: TestNode[] = [];
  for (let i = 0; i < n; i++) {
    const name = String.fromCharCode(97 + i);
    const address = `127.0.0.${2 + i}`;
    const dataDir = tempDataDir();
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const start = (): Promise<Service> =>
      startService(t, ['--api-host', address, '--node-name', name, '--node-address', address, '--config', configFile], {}, { registry: registryUrl, dataDir, detached: false });
    const node: TestNode = {
      name,
      address,
      service: await start(),
      restart: async () => {
        node.service = await start();
      },
    };
    nodes.push(node);
  }
  const first = nodes[0];
  if (first !== undefined) {
    const joined = await until(async () => {
      const r = await first.service.api('GET', '/cluster');
      return r.status === 200 && (r.body.nodes as Array<{ live: boolean }>).filter((x) => x.live).length === n;
    }, 20_000);
    if (!joined) throw new Error('the nodes did not all join');
  }
  return { pg, registryUrl, nodes, configFile };
}

/** GET `path` on `host:port`, resolving to the status and body, or to the error's code when the connection fails. */
export async function hit(host: string, port: number, urlPath = '/'): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(`http://${host}:${port}${urlPath}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (err as Error).name };
  }
}

/** A handler answering every request with `text` (200, no headers). */
export function textHandler(text: string): string {
  return `export default function handler() { return { version: '1.1', statuscode: 200, headers: {}, message: ${JSON.stringify(text)} }; }`;
}

/** The names of the nodes serving `httpdid` and reporting it ready, as node `via` sees them (none when it does not answer 200). */
export async function servedBy(via: TestNode, httpdid: number): Promise<string[]> {
  const r = await via.service.api('GET', `/servers/${httpdid}`);
  if (r.status !== 200) return [];
  return (r.body.cluster.nodes as Array<{ name: string; state: string }>).filter((n) => n.state === 'ready').map((n) => n.name);
}

/** The HAProxy configuration `isohttpd lb haproxy --registry` writes for the cluster at `registryUrl`, its frontends on the public address, connecting from it. @throws Error with its stderr when it fails */
export function lbConfig(registryUrl: string): string {
  const r = spawnSync(process.execPath, [CLI, 'lb', 'haproxy', '--registry', registryUrl, '--bind', PUBLIC_HOST, '--source', PUBLIC_HOST], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lb haproxy failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
