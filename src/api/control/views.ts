// What the API takes and shows of a tenant server: the create and update requests, the server view (schemas/server.json) and its stats, the raw counters for /metrics.

import { createHash } from 'node:crypto';
import { quantile, totalCount } from '../../core/histogram.js';
import type { Language } from '../../core/language.js';
import type { Limits } from '../../core/limits.js';
import type { EgressPolicy } from '../../host/worker/protocol.js';
import { OUTCOMES } from '../../core/outcome.js';
import { schemaDefaults } from '../../core/schemas.js';
import type { VersionRow } from '../registry/registry.js';
import type { OutcomeCounts, ServerStats } from '../supervisor/worker-pool.js';
import type { ManagedServer } from './managed-server.js';

/** The body of `POST /servers` after schema validation (schemas/create-server.json). */
export interface CreateRequest {
  language?: Language;
  /** Unique per tenant; a DNS label that starts with a letter. */
  name?: string;
  host: string;
  port: number;
  /** Virtual hosts: exact names and `*.suffix` wildcards (validated and normalised by hostname-claims.ts). */
  hostnames?: string[];
  source: string;
  replicas?: number;
  limits?: Partial<Limits>;
  exposeErrors?: boolean;
  /** Plain variables (the handler's `env`, with the secrets). */
  vars?: Record<string, string>;
  /** The hosts its handler may fetch from (schemas/egress.json); absent or null: no outbound access. */
  egress?: EgressPolicy | null;
}

/** A new server's `exposeErrors` when its request has none (its default in schemas/create-server.json). */
export const EXPOSE_ERRORS_DEFAULT: boolean = schemaDefaults('create-server')['exposeErrors'] === true;

/** The body of `PUT /servers/:httpdid` after schema validation (schemas/update-server.json). */
export interface UpdateRequest {
  source?: string;
  /** Absent: unchanged. */
  language?: Language;
  /** Merged into the server's current limits. */
  limits?: Partial<Limits>;
  /** Absent: unchanged. */
  exposeErrors?: boolean;
  /** Absent: unchanged; given: replaces them all. */
  vars?: Record<string, string>;
  /** Absent: unchanged; null: no outbound access any more; given: replaces the allow list. */
  egress?: EgressPolicy | null;
}

/** `stats` of a server view (schemas/server.json). */
export interface StatsView {
  requests: number;
  outcomes: OutcomeCounts;
  /** p50 and p99 from the head received to the response written, ms; null before the first request. */
  latencyMs: { p50: number | null; p99: number | null };
  bytesIn: number;
  bytesOut: number;
  heapUsedBytes: number;
  workerRestarts: number;
  /** Outbound fetches started, their body bytes, and those refused. */
  subrequests: number;
  subrequestBytes: number;
  egressRefusals: number;
}

/** A tenant server as the API shows it (schemas/server.json). */
export interface ServerView {
  httpdid: number;
  tenant: string;
  /** Only when it has one. */
  name?: string;
  host: string;
  port: number;
  /** Only when it has some. */
  hostnames?: readonly string[];
  state: 'running' | 'failed';
  reason?: string;
  createdAt: string;
  updatedAt: string;
  limits: Limits;
  /** Whether error bodies carry the handler's detail. */
  exposeErrors: boolean;
  replicas: number;
  quarantined: boolean;
  /** 1 at creation, +1 per successful `PUT`. */
  version: number;
  language: Language;
  vars: Readonly<Record<string, string>>;
  /** Only when it has one: the hosts its handler may fetch from. */
  egress?: EgressPolicy;
  /** The names of its secrets. */
  secrets: string[];
  stats: StatsView;
  /** How old `stats` are, ms: 0 when read for this call; else the time since a worker's last heartbeat (it did not answer in time). */
  statsAgeMs: number;
  source?: string;
}

/** A server's raw counters with its httpdid and state, for `GET /metrics`. */
export interface ServerMetrics {
  readonly httpdid: number;
  readonly tenant: string;
  readonly state: 'running' | 'failed';
  readonly stats: ServerStats;
}

/** The API view of a server and its counters `s` (from the worker pool), with its source if asked. */
export function serverView(server: ManagedServer, s: ServerStats, withSource: boolean): ServerView {
  const view: ServerView = {
    httpdid: server.httpdid,
    tenant: server.tenant,
    version: server.version.number,
    language: server.version.language,
    host: server.host,
    port: server.port,
    state: server.state,
    createdAt: server.createdAt,
    updatedAt: server.updatedAt,
    limits: server.version.limits,
    exposeErrors: server.version.exposeErrors,
    vars: server.version.vars,
    secrets: [...server.secrets.keys()].sort(),
    replicas: server.replicas,
    quarantined: server.quarantined,
    stats: {
      requests: OUTCOMES.reduce((n, o) => n + s.outcomes[o], 0),
      outcomes: s.outcomes,
      latencyMs: totalCount(s.latency) === 0 ? { p50: null, p99: null } : { p50: quantile(s.latency, 0.5), p99: quantile(s.latency, 0.99) },
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      heapUsedBytes: s.heapUsed,
      workerRestarts: s.workerRestarts,
      subrequests: s.subrequests,
      subrequestBytes: s.subrequestBytes,
      egressRefusals: s.egressRefusals,
    },
    statsAgeMs: s.ageMs,
  };
  if (server.name !== null) view.name = server.name;
  if (server.hostnames.length > 0) view.hostnames = server.hostnames;
  if (server.version.egress !== null) view.egress = server.version.egress;
  if (server.reason !== undefined) view.reason = server.reason;
  if (withSource) view.source = server.version.tenantSource;
  return view;
}

/** A kept version as `GET /servers/:httpdid/versions` shows it (schemas/server-version.json). */
export interface VersionView {
  version: number;
  createdAt: string;
  /** SHA-256 of the source (UTF-8), hex. */
  sourceSha256: string;
  /** Size of the source, bytes (UTF-8). */
  sourceBytes: number;
  language: Language;
  limits: Limits;
  exposeErrors: boolean;
  /** Whether it is the version serving. */
  current: boolean;
  source?: string;
}

/** The API view of a kept version; `current` is the number of the version serving. */
export function versionView(v: VersionRow, current: number, withSource: boolean): VersionView {
  const view: VersionView = {
    version: v.version,
    createdAt: v.createdAt,
    sourceSha256: createHash('sha256').update(v.source, 'utf8').digest('hex'),
    sourceBytes: Buffer.byteLength(v.source, 'utf8'),
    language: v.language,
    limits: v.limits,
    exposeErrors: v.exposeErrors,
    current: v.version === current,
  };
  if (withSource) view.source = v.source;
  return view;
}
