// A server as the API shows it in cluster mode: the stored row (any node answers from the database), this node's counters when it serves it, and `cluster`: which nodes it is placed on and what each reports.

import type { SecretRow, ServerRow } from '../registry/registry.js';
import type { ServerStats } from '../supervisor/worker-pool.js';
import { type ManagedServer, storedServer } from '../control/managed-server.js';
import { type ServerView, serverView } from '../control/views.js';
import type { NodeRow, ReportRow } from './cluster-store.js';

/** One placed node of a server, as shown. */
export interface PlacedNodeView {
  readonly name: string;
  /** The node's own address (the server's port is bound there). */
  readonly address: string;
  /** `ready`: it serves the wanted revision; `failed`: it could not (see `reason`); `pending`: not yet. */
  readonly state: 'ready' | 'failed' | 'pending';
  /** The version it serves (or failed to serve), when it reported. */
  readonly version?: number;
  readonly reason?: string;
}

/** Where a server is in the cluster (schemas/server.json `cluster`). */
export interface ClusterStatus {
  /** Every placed node serves the current revision (and it is placed on at least one). */
  readonly ready: boolean;
  readonly nodes: readonly PlacedNodeView[];
}

/** The status of a server wanted at `revision`, from its placements, the nodes and their reports. */
export function clusterStatus(revision: string, placed: readonly string[], reports: readonly ReportRow[], nodes: readonly NodeRow[]): ClusterStatus {
  const views = placed.map((name): PlacedNodeView => {
    const address = nodes.find((n) => n.name === name)?.address ?? '';
    const r = reports.find((x) => x.node === name);
    if (r === undefined) return { name, address, state: 'pending' };
    const version = Number(r.revision.split(':')[0]);
    if (r.revision !== revision) return { name, address, state: 'pending', version };
    return r.state === 'ready' ? { name, address, state: 'ready', version } : { name, address, state: 'failed', version, ...(r.reason === null ? {} : { reason: r.reason }) };
  });
  return { ready: views.length > 0 && views.every((v) => v.state === 'ready'), nodes: views };
}

/** A stored row as the {@link ManagedServer} shape {@link serverView} reads (nothing bound: a view only). */
function asManaged(row: ServerRow, secrets: readonly Pick<SecretRow, 'name' | 'updatedAt'>[], local: ManagedServer | undefined): ManagedServer {
  const version = {
    number: row.version,
    source: row.source,
    limits: row.limits,
    exposeErrors: row.exposeErrors,
    language: row.language,
    tenantSource: row.source,
    vars: row.vars,
    env: '',
    egress: row.egress,
  };
  const named = new Map(secrets.map((s) => [s.name, { value: '', updatedAt: s.updatedAt }]));
  return {
    ...storedServer(row, version, named),
    key: '',
    handle: null,
    slots: [],
    state: row.state,
    ...(row.reason === null ? {} : { reason: row.reason }),
    quarantined: local?.quarantined ?? false,
  };
}

/** The view of a stored server with its cluster status; `stats` are this node's (zero where it does not serve it). */
export function clusterServerView(
  row: ServerRow,
  secrets: readonly Pick<SecretRow, 'name' | 'updatedAt'>[],
  status: ClusterStatus,
  stats: ServerStats,
  local: ManagedServer | undefined,
  withSource: boolean,
): ServerView & { cluster: ClusterStatus } {
  return { ...serverView(asManaged(row, secrets, local), stats, withSource), cluster: status };
}
