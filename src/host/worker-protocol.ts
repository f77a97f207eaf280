// The messages between the control process and a sandbox worker process (over the fork IPC channel).

import type { ErrorCode } from '../errors.js';
import type { Limits } from '../limits.js';
import type { Outcome } from '../outcome.js';

/** Control → worker. `deploy` travels with the bound listening handle; `ping` is the heartbeat. */
export type ToWorker =
  | { readonly op: 'deploy'; readonly id: number; readonly httpdid: number; readonly port: number; readonly source: string; readonly limits: Limits }
  | { readonly op: 'undeploy'; readonly id: number; readonly httpdid: number }
  | { readonly op: 'ping'; readonly id: number };

/** Per-server counters kept by a worker since it started (cumulative), sent with each heartbeat. */
export interface ServerCounters {
  /** Requests handed to the sandbox and not yet answered. */
  inFlight: number;
  /** How each answered request ended. */
  outcomes: Record<Outcome, number>;
}

/** The answer to one control request, matched by `id`. A `ping` answer carries the counters, keyed by httpdid. */
export type Reply =
  | { readonly op: 'reply'; readonly id: number; readonly ok: true; readonly stats?: Readonly<Record<string, ServerCounters>> }
  | { readonly op: 'reply'; readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Worker → control. */
export type FromWorker =
  /** The worker is up; `uid` is the user it runs as (an unprivileged one when started as root and one exists). */
  | { readonly op: 'ready'; readonly pid: number; readonly uid: number }
  | Reply
  /** A request that did not end `ok` (for the log); `ok` ones are not sent, to keep the hot path local. */
  | { readonly op: 'outcome'; readonly httpdid: number; readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string }
  /** Console output of a handler: `[level, text]` lines, each at most 4 KiB, at most 1000 per request. */
  | { readonly op: 'console'; readonly httpdid: number; readonly time: number; readonly lines: ReadonlyArray<readonly [string, string]> }
  /** A server went over its CPU share: its new requests get 503 for `coolDownMs` (see cpu-share.ts); `refusedBefore` counts earlier refusals on this worker. */
  | { readonly op: 'throttled'; readonly httpdid: number; readonly share: number; readonly coolDownMs: number; readonly refusedBefore: number }
  /** isolated-vm lost control of an isolate; the worker exits right after this. */
  | { readonly op: 'catastrophic'; readonly httpdid: number; readonly message: string };
