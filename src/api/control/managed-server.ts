// The lifetimes the control process keeps: a tenant server (ManagedServer, from create or restore to remove) and the version of it that serves (ServerVersion, replaced by each redeploy).

import type { Language } from '../../core/language.js';
import type { Limits } from '../../core/limits.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import type { ServerRow } from '../registry/registry.js';
import type { BoundHandle } from './bind.js';

/** One version of a server: what a redeploy replaces as a whole, once it is committed and switched on. */
export interface ServerVersion {
  /** 1 at creation, +1 per successful redeploy. */
  readonly number: number;
  /** The JavaScript the workers run (for TypeScript: `tenantSource` stripped of its types). */
  readonly source: string;
  readonly limits: Limits;
  /** Whether error bodies carry the handler's detail (development; default false). */
  readonly exposeErrors: boolean;
  /** The language of `tenantSource`. */
  readonly language: Language;
  /** The source as the tenant gave it: what is stored, shown and compared. */
  readonly tenantSource: string;
  /** Its plain variables (shown; part of the version). */
  readonly vars: Readonly<Record<string, string>>;
  /** What the handler gets as `env`: the variables and the server's secrets as they were when this version was deployed, as JSON. */
  readonly env: string;
  /** The hosts its handler may fetch from (shown; part of the version); null: no outbound access. */
  readonly egress: EgressPolicy | null;
}

/** What a worker runs of a server version: its code, its limits, how its errors are answered, its environment. */
export type HandlerCode = Pick<ServerVersion, 'source' | 'limits' | 'exposeErrors' | 'env' | 'egress'>;

/** Two egress policies the same (the same hosts in the same order, or both none). */
export function sameEgress(a: EgressPolicy | null, b: EgressPolicy | null): boolean {
  return a === null || b === null ? a === b : a.allow.length === b.allow.length && a.allow.every((h, i) => h === b.allow[i]);
}

/** One secret of a server in the control process: its value in clear (never shown), and when it was written. */
export interface Secret {
  readonly value: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/** The environment a handler gets, as JSON: its variables, then its secrets (a secret wins over a variable of the same name). */
export function envJson(vars: Readonly<Record<string, string>>, secrets: ReadonlyMap<string, Secret>): string {
  if (secrets.size === 0 && Object.keys(vars).length === 0) return '{}';
  const env: Record<string, string> = { ...vars };
  for (const [name, s] of secrets) env[name] = s.value;
  return JSON.stringify(env);
}

/** What placing a server needs to know of it. */
export type PlaceRequest = Pick<ManagedServer, 'httpdid' | 'tenant' | 'host' | 'port' | 'hostnames' | 'replicas'>;

/** A bound, deployed address: where a server's replicas run. */
export interface Placement {
  /** `address|port`: the address as this service's own servers share it out. */
  readonly key: string;
  readonly handle: BoundHandle;
  /** The worker slots hosting a replica. */
  slots: number[];
}

/**
 * A tenant server for its whole life in the control process: from its creation (or its restore
 * at start-up) to its removal. It holds its bound handle all that time, so the port stays bound
 * while a worker is replaced.
 */
export interface ManagedServer {
  readonly httpdid: number;
  readonly tenant: string;
  /** Its name, unique per tenant (the API takes it wherever it takes the httpdid), or null. */
  readonly name: string | null;
  readonly host: string;
  readonly port: number;
  /** Its virtual hosts' names, normalised (src/core/hostnames.ts); empty: it has its address to itself. */
  readonly hostnames: readonly string[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
  readonly replicas: number;
  /** The version serving. */
  version: ServerVersion;
  /** Its secrets, by name (not part of versions: a change redeploys the serving version with them). */
  secrets: ReadonlyMap<string, Secret>;
  /** The last update of this server (updates of one server run one after the other). */
  updating: Promise<unknown>;
  /** Updates queued or running. */
  updatesPending: number;
  /** Its {@link Placement.key}; '' for a server not bound (failed at restore, or waiting there for its address). Set once bound. */
  key: string;
  /** The bound socket; null for a server not bound (failed at restore, or waiting there for its address). Set once bound. */
  handle: BoundHandle | null;
  /** The worker slots hosting a replica (none once failed). */
  slots: number[];
  state: 'running' | 'failed';
  reason?: string;
  /** Moved to a worker of its own by the crash policy. */
  quarantined: boolean;
  /** When its handler crashed a worker, ms since the epoch (the last few). */
  crashes: number[];
}

/** The fields of a new {@link ManagedServer} that only its life changes later: not quarantined, no crash, no update. */
export function freshLife(): Pick<ManagedServer, 'quarantined' | 'crashes' | 'updating' | 'updatesPending'> {
  return { quarantined: false, crashes: [], updating: Promise.resolve(), updatesPending: 0 };
}

/** A stored server's fields as a {@link ManagedServer} holds them, with `version` and `secrets`, and a fresh life: all but where it is bound and its state. */
export function storedServer(row: ServerRow, version: ServerVersion, secrets: ReadonlyMap<string, Secret>): Omit<ManagedServer, 'key' | 'handle' | 'slots' | 'state' | 'reason'> {
  const { httpdid, tenant, name, host, port, hostnames, createdAt, updatedAt, replicas } = row;
  return { httpdid, tenant, name, host, port, hostnames, createdAt, updatedAt, replicas, version, secrets, ...freshLife() };
}
