// The messages between the control process and a sandbox worker process (over the fork IPC channel).

import type { ErrorCode } from '../errors.js';
import type { Limits } from '../limits.js';
import type { Outcome } from '../outcome.js';

/** Control → worker. `deploy` travels with the bound listening handle. */
export type ToWorker =
  | { readonly op: 'deploy'; readonly id: number; readonly httpdid: number; readonly port: number; readonly source: string; readonly limits: Limits }
  | { readonly op: 'undeploy'; readonly id: number; readonly httpdid: number };

/** The answer to one control request, matched by `id`. */
export type Reply =
  | { readonly op: 'reply'; readonly id: number; readonly ok: true }
  | { readonly op: 'reply'; readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Worker → control. */
export type FromWorker =
  | { readonly op: 'ready'; readonly pid: number }
  | Reply
  /** A request that did not end `ok` (for the log); `ok` ones are not sent, to keep the hot path local. */
  | { readonly op: 'outcome'; readonly httpdid: number; readonly outcome: Exclude<Outcome, 'ok'>; readonly detail: string }
  /** isolated-vm lost control of an isolate; the worker exits right after this. */
  | { readonly op: 'catastrophic'; readonly httpdid: number; readonly message: string };
