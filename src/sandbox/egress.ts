// What the sandbox needs from the network for the tenant's outbound fetch (implemented by src/host/worker/egress/outbound.ts): plain data in, plain data out; the sandbox never opens a socket.

import type { Limits } from '../core/limits.js';

/** One outbound request as the guest asked for it, checked by type (not yet by policy). */
export interface OutboundCall {
  readonly url: string;
  readonly method: string;
  /** Header pairs, names lower case. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array | null;
}

/** What a fetch ends with: the response (its body whole), or why it failed (the tenant's TypeError message). */
export type OutboundAnswer =
  | {
      readonly ok: true;
      readonly status: number;
      readonly statusText: string;
      /** Header pairs, names lower case, in the order received. */
      readonly headers: ReadonlyArray<readonly [string, string]>;
      readonly body: Uint8Array;
      /** The URL of the last hop (after redirects). */
      readonly url: string;
      readonly redirected: boolean;
    }
  | { readonly ok: false; readonly message: string };

/**
 * Counts bytes of a subrequest against its request's `maxSubrequestBytes` as they are sent and
 * arrive; returns false once over it (the fetch is then aborted).
 */
export type ByteMeter = (bytes: number) => boolean;

/** The host's outbound fetch for one server version: its egress policy applied, its counters kept. */
export interface Egress {
  /** The version's per-request limits of outbound fetch. */
  readonly limits: Pick<Limits, 'maxSubrequests' | 'maxSubrequestBytes'>;
  /**
   * Performs `call` (redirects followed, the policy checked at each hop and on every address
   * connected to). Never rejects: a refusal or a failure is an answer with `ok: false`.
   * @param meter charged with every body byte sent and received
   * @param signal aborts it (its requests ended, or their deadline)
   */
  fetch(call: OutboundCall, meter: ByteMeter, signal: AbortSignal): Promise<OutboundAnswer>;
  /** A subrequest refused by a per-request limit (maxSubrequests, maxSubrequestBytes) before reaching the network: counted. */
  refused(): void;
}
