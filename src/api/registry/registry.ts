// The registry as its callers see it: tenants, servers and the httpdid sequence, durable, behind an async interface (src/api/registry/sqlite.ts and src/api/registry/postgres.ts implement it, src/api/registry/open.ts chooses; test/registry/contract.ts is what every implementation must do).

import type { Limits } from '../../core/limits.js';
import type { Language } from '../../core/language.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';

/** Per-tenant quota overrides; an absent one means the configured default. */
export interface QuotaOverrides {
  maxServers?: number;
  maxSourceBytes?: number;
  /** Total `memoryMb × isolates × replicas` across the tenant's running servers, MiB. */
  memoryMb?: number;
}

/** A tenant as stored (never its token, only a hash of it). */
export interface TenantRow {
  readonly name: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly quotas: QuotaOverrides;
}

/** A server as stored. */
export interface ServerRow {
  readonly httpdid: number;
  readonly tenant: string;
  /** Its name (unique per tenant), or null for a server created without one. */
  readonly name: string | null;
  readonly host: string;
  readonly port: number;
  /** Its virtual hosts' names, normalised; empty for a server with its address to itself. */
  readonly hostnames: readonly string[];
  /** The handler source as the tenant gave it (TypeScript too: it is stripped when deployed). */
  readonly source: string;
  readonly language: Language;
  readonly limits: Limits;
  /** Whether error bodies carry the handler's detail (the server's `exposeErrors`). */
  readonly exposeErrors: boolean;
  /** Its plain variables (part of each version). */
  readonly vars: Readonly<Record<string, string>>;
  /** Its egress policy (part of each version); null: no outbound access. */
  readonly egress: EgressPolicy | null;
  readonly replicas: number;
  readonly state: 'running' | 'failed';
  readonly reason: string | null;
  /** 1 at creation, incremented by each redeploy. */
  readonly version: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/** How removing a tenant ended. */
export type RemoveTenantResult = { removed: true } | { removed: false; servers: number[] } | { removed: false; missing: true };

/** A new server as {@link Registry.insertServer} takes it (stored as version 1). */
export type NewServerRow = Omit<ServerRow, 'version' | 'updatedAt' | 'reason' | 'name' | 'language' | 'vars' | 'hostnames' | 'egress'> & {
  hostnames?: readonly string[];
  reason?: string | null;
  name?: string | null;
  language?: Language;
  vars?: Readonly<Record<string, string>>;
  egress?: EgressPolicy | null;
};

/** What a redeploy changes: the new source, limits and/or exposeErrors, and the new version number. */
export interface ServerChange {
  readonly source?: string;
  readonly language?: Language;
  readonly limits?: Limits;
  readonly exposeErrors?: boolean;
  readonly vars?: Readonly<Record<string, string>>;
  /** Absent: unchanged; null: none any more. */
  readonly egress?: EgressPolicy | null;
  readonly version: number;
  /** How many versions of the server to keep (this one included), count; absent: all. */
  readonly keepVersions?: number;
}

/** One kept version of a server: what it ran. */
export interface VersionRow {
  readonly httpdid: number;
  readonly version: number;
  readonly source: string;
  readonly language: Language;
  readonly limits: Limits;
  readonly exposeErrors: boolean;
  readonly vars: Readonly<Record<string, string>>;
  readonly egress: EgressPolicy | null;
  /** ISO 8601: when it was deployed. */
  readonly createdAt: string;
}

/** One secret of a server as stored: its value sealed (src/api/control/secret-box.ts), never in clear. */
export interface SecretRow {
  readonly name: string;
  readonly sealed: string;
  /** ISO 8601: when it was last written. */
  readonly updatedAt: string;
}

/** What an admission check sees, read inside the transaction that inserts (or updates) the server. */
export interface AdmissionState {
  /** The servers already stored on the same (host, port) — any tenant, running or failed — the server itself excluded. */
  readonly sameAddress: ReadonlyArray<{ readonly httpdid: number; readonly tenant: string; readonly hostnames: readonly string[]; readonly replicas: number }>;
  /** The tenant's stored servers (running or failed), count, the server itself excluded. */
  readonly tenantServers: number;
  /** Σ limits.memoryMb × limits.isolates × replicas over the tenant's `running` servers, MiB, the server itself excluded. */
  readonly tenantMemoryMb: number;
}

/**
 * Decides, from what the transaction read, whether the write may go on: returns to admit, throws
 * (an IsoError) to refuse — the transaction is rolled back and the promise rejects with that very
 * error. Pure and synchronous: an engine may call it again when it runs the transaction again
 * (PostgreSQL after a serialization failure), each time with what that attempt read.
 */
export type Admission = (state: AdmissionState) => void;

/**
 * The durable registry. Every method is asynchronous; every write is committed before its promise
 * resolves, so an acknowledged write survives a crash. A write that reads first (removeTenant,
 * insertServer, updateServer with an admission) is atomic: no other write, from this process or
 * another, comes between its read and its write. Errors are rejections, never synchronous throws.
 */
export interface Registry {
  /** The next httpdid, committed before it resolves: never handed out twice in this storage. */
  nextHttpdid(): Promise<number>;
  /**
   * Stores a new server (version 1) if its tenant still exists, or if no tenant exists at all.
   * @returns whether it was stored.
   * Rejects with IsoError ISO_ERR_API_NAME_TAKEN if the tenant has a server of that name already
   * (a constraint of the storage, so it holds across processes).
   * With `admit`, the same transaction first reads the {@link AdmissionState} of `row` (its host
   * string and port, its tenant) and calls `admit` with it before inserting: a throw refuses the
   * creation (nothing stored, the promise rejects with that error). The check holds across
   * processes and nodes: no concurrent insert can slip in between the read and the write.
   */
  insertServer(row: NewServerRow, admit?: Admission): Promise<boolean>;
  /**
   * Records a redeploy (and a new updatedAt), and keeps the new version among the server's versions
   * (dropping the oldest beyond `change.keepVersions`), in one transaction.
   * With `admit`, the same transaction first reads the {@link AdmissionState} of the stored server
   * (its host, port and tenant, itself excluded; the other servers' limits as stored) and calls
   * `admit` with it before updating: a throw refuses the redeploy (row and versions unchanged, the
   * promise rejects with that error). A missing server resolves undefined without calling `admit`.
   * @returns the updated row, or undefined if there is no such server.
   */
  updateServer(httpdid: number, change: ServerChange, admit?: Admission): Promise<ServerRow | undefined>;
  /** The kept versions of a server, newest first (empty for a missing server). A new server's version 1 is kept by insertServer. */
  versions(httpdid: number): Promise<VersionRow[]>;
  /** A server's secrets, by name (empty for a missing server). */
  secrets(httpdid: number): Promise<SecretRow[]>;
  /** Writes (or replaces) one secret of a server. @returns its updatedAt, or undefined for a missing server (nothing written). */
  putSecret(httpdid: number, name: string, sealed: string): Promise<string | undefined>;
  /** Deletes one secret of a server. @returns whether it existed. */
  deleteSecret(httpdid: number, name: string): Promise<boolean>;
  /** Records a server's state (and why it failed); nothing for a missing server. */
  setServerState(httpdid: number, state: 'running' | 'failed', reason: string | null): Promise<void>;
  /** Deletes a server and its kept versions. @returns whether it existed. */
  deleteServer(httpdid: number): Promise<boolean>;
  /** Every stored server (all tenants), in httpdid order. */
  servers(): Promise<ServerRow[]>;
  /** One tenant's servers, in httpdid order. */
  serversOf(tenant: string): Promise<ServerRow[]>;
  /**
   * Adds a tenant with a new random token. @returns the token (the only time it is available).
   * Rejects with an Error if the name is invalid or taken.
   */
  addTenant(name: string, quotas?: QuotaOverrides): Promise<string>;
  /** Every tenant, by name. */
  tenants(): Promise<TenantRow[]>;
  /** One tenant, or undefined. */
  tenant(name: string): Promise<TenantRow | undefined>;
  /** The tenant a token belongs to, or undefined. */
  tenantByToken(token: string): Promise<TenantRow | undefined>;
  /** Whether any tenant exists (none: the open `default` tenant may apply). */
  hasTenants(): Promise<boolean>;
  /** Removes a tenant. @returns `removed`, `missing`, or the httpdids of its servers (then nothing was removed). */
  removeTenant(name: string): Promise<RemoveTenantResult>;
  /** Closes it (again: nothing). */
  close(): Promise<void>;
}
