// The messages between the control process and a sandbox worker process (over the fork IPC channel), and the options a worker is forked with (its command line).

import type { ErrorCode } from '../../core/errors.js';
import type { LatencyHistogram } from '../../core/histogram.js';
import type { Limits } from '../../core/limits.js';
import type { Outcome } from '../../core/outcome.js';
import type { ConsoleLines } from '../../sandbox/isolate-instance.js';
import type { EgressPolicy } from './egress/policy.js';

export type { EgressPolicy } from './egress/policy.js';

/**
 * Control → worker. `deploy` travels with the bound listening handle; `ping` is the heartbeat.
 * Hot redeploy of a hosted server: `prepare` compiles and checks a new version next to the one
 * serving (nothing switches; a bad source answers `ISO_ERR_API_INVALID_SOURCE`), `commit` switches
 * new requests to it (in-flight ones finish on the old isolate, disposed after them), `abort`
 * drops a prepared version. `check` (compile check) instantiates a source as a deploy would and disposes it:
 * ok, or the error a deploy of it gives (cluster mode: the node taking the API call may not serve it).
 */
export type ToWorker =
  /** `env`: the version's environment as JSON (an object of strings: its variables and secrets), the handler's second argument; `egress`: its egress policy (null: no outbound access). */
  | {
      readonly op: 'deploy';
      readonly id: number;
      readonly httpdid: number;
      readonly port: number;
      readonly source: string;
      readonly limits: Limits;
      readonly exposeErrors: boolean;
      readonly env: string;
      /** Set for a server with hostnames: it shares the address `key` with the other virtual hosts there (one socket per address on this worker). */
      readonly vhost?: VirtualHostSpec;
      readonly egress: EgressPolicy | null;
    }
  /** `drainMs`: wind the server down first (no new connections, in-flight requests finished, at most this long, ms), as when it moves to another worker; without it, stop now. */
  | { readonly op: 'undeploy'; readonly id: number; readonly httpdid: number; readonly drainMs?: number }
  | {
      readonly op: 'prepare';
      readonly id: number;
      readonly httpdid: number;
      readonly source: string;
      readonly limits: Limits;
      readonly exposeErrors: boolean;
      readonly env: string;
      readonly egress: EgressPolicy | null;
    }
  /**
   * Compile check: what a deploy does to instantiate the module (fresh isolate, prelude, compile,
   * evaluate, find the handler) under the same limits, then the isolate is disposed; nothing is
   * bound or served, and it belongs to no server (none exists yet). Answers ok, or
   * `ISO_ERR_API_INVALID_SOURCE` with the message a deploy gives (see src/host/worker/compile-check.ts).
   */
  | {
      readonly op: 'check';
      readonly id: number;
      readonly source: string;
      readonly limits: Limits;
      readonly exposeErrors: boolean;
      readonly env: string;
      readonly egress: EgressPolicy | null;
    }
  | { readonly op: 'commit'; readonly id: number; readonly httpdid: number }
  | { readonly op: 'abort'; readonly id: number; readonly httpdid: number }
  | { readonly op: 'ping'; readonly id: number }
  /** The counters now, read for an API call (a `ping` answer without the heap sampling a heartbeat starts). */
  | { readonly op: 'stats'; readonly id: number }
  /** Graceful stop: close every listener, answer once no request is in flight (or after `timeoutMs`). */
  | { readonly op: 'drain'; readonly id: number; readonly timeoutMs: number }
  /** The servers someone tails now (the whole set): their requests are reported one by one (`tail` messages back). */
  | { readonly op: 'tail'; readonly id: number; readonly httpdids: readonly number[] };

/** A virtual host's place on its shared address, as a worker hosts it. */
export interface VirtualHostSpec {
  /** The address as the control process keys it (`address|port`): the servers of one key share one socket. */
  readonly key: string;
  /** Its hostnames, normalised (exact names and `*.suffix` wildcards), never overlapping another tenant's on the address. */
  readonly hostnames: readonly string[];
  /** Whether it also answers the Hosts no server of the address claims (config `virtualHosts.fallbackServers`). */
  readonly fallback: boolean;
}

/**
 * What the tenant's log is told of a request that did not end ok. Bounded: `detail` at most about
 * 1 KiB (the bootstrap caps messages), `stack` 4 KiB, `path` 1 KiB, `requestId` 128 characters.
 */
export interface RequestFailure {
  /** The id the client was answered with in `X-Request-Id`. */
  readonly requestId: string;
  readonly method: string;
  /** The request-target's path (without the query). */
  readonly path: string;
  /** The HTTP status answered. */
  readonly status: number;
  /** What happened, with the handler's own words (its exception's message, why its response is invalid). */
  readonly detail: string;
  /** An exception's stack, frames of the tenant's module as `handler.js:line:column`. */
  readonly stack?: string;
}

/** One request of a tailed server, as the tail shows it, once its response is written (bounded as {@link RequestFailure}). */
export interface TailEvent {
  /** When the response was written, ms since the epoch. */
  readonly time: number;
  readonly requestId: string;
  readonly method: string;
  /** The request-target's path (without the query), at most 1 KiB. */
  readonly path: string;
  readonly status: number;
  readonly outcome: Outcome;
  /** From the request's head to its response written, ms. */
  readonly durationMs: number;
  /** Body bytes received by then. */
  readonly bytesIn: number;
  /** Bytes of the response written (head and body). */
  readonly bytesOut: number;
  /** For an outcome other than ok: what happened. */
  readonly detail?: string;
  /** For an exception: its stack, frames of the tenant's module as `handler.js:line:column`. */
  readonly stack?: string;
}

/** The runtime a worker process runs on, as read inside it (`process.versions`). */
export interface WorkerRuntime {
  /** Node.js version, e.g. `24.21.0`. */
  readonly node: string;
  /** V8 version. */
  readonly v8: string;
}

/** A worker process up now, and what it runs on. */
export interface WorkerInfo extends WorkerRuntime {
  readonly pid: number;
}

/** Per-server counters kept by a worker since it started (cumulative), sent with each heartbeat. */
export interface ServerCounters {
  /** Requests handed to the sandbox and not yet answered. */
  inFlight: number;
  /** How each answered request ended. */
  outcomes: Record<Outcome, number>;
  /** Latency of answered requests, from the head received to the response written (see src/core/histogram.ts). */
  latency: LatencyHistogram;
  /** Bytes read from the server's sockets. */
  bytesIn: number;
  /** Bytes written to the server's sockets. */
  bytesOut: number;
  /** Bytes used by the server's isolate (V8 used heap plus external memory), as last sampled on a heartbeat. */
  heapUsed: number;
  /** Outbound fetches started by its handlers (src/host/worker/egress/). */
  subrequests: number;
  /** Body bytes those fetches sent and received. */
  subrequestBytes: number;
  /** Outbound fetches refused: by the egress policy (allow list, denied ranges) or a per-request limit. */
  egressRefusals: number;
}

/**
 * The answer to one control request, matched by `id`. A `ping` answer carries the counters, keyed by
 * httpdid (a `stats` answer too; a `drain` answer: the final ones), and `running`: the servers with a request inside their sandbox right now (crash blame).
 */
export type Reply =
  | {
      readonly op: 'reply';
      readonly id: number;
      readonly ok: true;
      readonly stats?: Readonly<Record<string, ServerCounters>>;
      readonly running?: readonly number[];
    }
  | { readonly op: 'reply'; readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Worker → control. */
export type FromWorker =
  /**
   * The worker is up; `uid` is the user it runs as (an unprivileged one when started as root and one
   * exists); `runtime` what it runs on, as it reads it itself.
   */
  | { readonly op: 'ready'; readonly pid: number; readonly uid: number; readonly runtime: WorkerRuntime }
  | Reply
  /** A request that did not end `ok`, for the service's log and the server's (`ok` ones are not sent, to keep the hot path local). */
  | ({ readonly op: 'outcome'; readonly httpdid: number; readonly outcome: Exclude<Outcome, 'ok'>; readonly time: number } & RequestFailure)
  /** Console output of a handler: `[level, text]` lines, each at most 4 KiB, at most 1000 per request. */
  | { readonly op: 'console'; readonly httpdid: number; readonly time: number; readonly lines: ConsoleLines }
  /** Requests of a tailed server answered this event-loop turn; `dropped`: how many more there were (over TAIL_EVENTS_PER_TURN). */
  | { readonly op: 'tail'; readonly httpdid: number; readonly events: readonly TailEvent[]; readonly dropped?: number }
  /** A server went over its CPU share: its new requests get 503 for `coolDownMs` (see cpu-share.ts); `refusedBefore` counts earlier refusals on this worker. */
  | { readonly op: 'throttled'; readonly httpdid: number; readonly share: number; readonly coolDownMs: number; readonly refusedBefore: number }
  /**
   * Servers whose requests in their sandbox went from 0 to 1 or more, or back to 0, since the last
   * such message (one message per event-loop turn at most), with their requests in flight now: the
   * control process blames those with requests in flight if the worker dies.
   */
  | { readonly op: 'running'; readonly inFlight: Readonly<Record<string, number>> }
  /**
   * isolated-vm lost control of one of a server's isolates (`message`: its onCatastrophicError
   * text): the worker must be retired. It gave that server up and serves the others on; the control
   * process charges the server, hosts the slot's servers on a fresh worker, then drains this one and
   * kills it (the worker kills itself after RETIRE_DEADLINE_MS otherwise). Sent again for each further
   * server that loses an isolate meanwhile.
   */
  | { readonly op: 'retire'; readonly httpdid: number; readonly message: string }
  /**
   * The worker's resident set went over its budget (rss-backstop.ts): `reset`, the isolates of
   * `httpdid` (the server blamed) were reset; `retire`, that was not enough (a `retire` follows).
   * Figures in MiB. For the log.
   */
  | { readonly op: 'memory'; readonly httpdid: number; readonly action: 'reset' | 'retire'; readonly rssMb: number; readonly budgetMb: number }
  /**
   * Connections from a balancer's address refused at their PROXY header (closed without a
   * response): `peer` and `reason` of the latest, `count` since the last report (reports are at
   * most one per PROXY_REPORT_MS). For the log.
   */
  | { readonly op: 'proxyRefused'; readonly peer: string; readonly reason: string; readonly count: number };

/** Options of a worker process as a whole, given on its command line at fork ({@link workerArgv}, {@link workerOptions}). */
export interface WorkerOptions {
  /** Ceiling of the worker's resident set, MiB; 0: automatic (config `workerRssLimitMb`, see rss-backstop.ts). */
  readonly rssLimitMb: number;
  /** Networks (CIDRs) the operator opened to outbound fetch although they are in a denied range (config `egressAllowNetworks`). */
  readonly egressAllowNetworks?: readonly string[];
  /** The balancers' networks (CIDRs): connections from them must start with a PROXY v2 header (config `proxyProtocol.from`). */
  readonly proxyProtocolFrom?: readonly string[];
}

const RSS_LIMIT_FLAG = '--rss-limit-mb=';
const EGRESS_NETWORKS_FLAG = '--egress-allow-networks=';
const PROXY_FROM_FLAG = '--proxy-protocol-from=';

/** The command-line arguments that carry `opts` to a worker. */
export function workerArgv(opts: WorkerOptions): string[] {
  const nets = opts.egressAllowNetworks ?? [];
  const from = opts.proxyProtocolFrom ?? [];
  return [`${RSS_LIMIT_FLAG}${opts.rssLimitMb}`, ...(nets.length === 0 ? [] : [`${EGRESS_NETWORKS_FLAG}${nets.join(',')}`]), ...(from.length === 0 ? [] : [`${PROXY_FROM_FLAG}${from.join(',')}`])];
}

/** The comma-separated list of the flag `prefix` in `argv`, or none. */
function listFlag(argv: readonly string[], prefix: string): string[] {
  const arg = argv.find((a) => a.startsWith(prefix));
  return arg === undefined
    ? []
    : arg
        .slice(prefix.length)
        .split(',')
        .filter((n) => n !== '');
}

/** The options a worker was forked with (`process.argv`); missing or malformed ones are 0 (automatic), or none. */
export function workerOptions(argv: readonly string[]): WorkerOptions {
  const arg = argv.find((a) => a.startsWith(RSS_LIMIT_FLAG));
  const mb = arg === undefined ? 0 : Number(arg.slice(RSS_LIMIT_FLAG.length));
  const from = listFlag(argv, PROXY_FROM_FLAG);
  return {
    rssLimitMb: Number.isSafeInteger(mb) && mb > 0 ? mb : 0,
    egressAllowNetworks: listFlag(argv, EGRESS_NETWORKS_FLAG),
    ...(from.length === 0 ? {} : { proxyProtocolFrom: from }),
  };
}
