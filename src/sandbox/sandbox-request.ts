// One request in a sandbox, from `invoke` to its answer: the innermost lifetime (server → version → isolate → request), its state as the batch scheduler moves it.

import type { BodySource } from './body-source.js';
import type { IsolateInstance } from './isolate-instance.js';
import type { InvokeResult } from './ivm-outcome.js';

/**
 * One request from `invoke` to its answer: the innermost lifetime (server → version → isolate →
 * request). It may outlive an isolate: one that never started when its batch timed out goes in the
 * next batch, on the replacement.
 */
export interface SandboxRequest {
  readonly json: string;
  readonly body: BodySource;
  readonly id: number;
  /** The id its client is answered with (`X-Request-Id`), which its console lines carry; '' when none was given. */
  readonly requestId: string;
  /** When it was first handed to a ready isolate (performance.now(), ms): its time limit runs from here. */
  t0: number;
  readonly resolve: (r: InvokeResult) => void;
  /** Body bytes taken when it was first dispatched (kept, should it be dispatched again). */
  first: Uint8Array | null;
  complete: boolean;
  /** `first` decoded as UTF-8 by the host when it is the whole body (what `datastream.text()` returns without decoding in the isolate), else null. */
  text: string | null;
  /**
   * queued: waiting for a batch; batch: its batch is running; waiting: its handler's promise is
   * pending; streaming: answered, its streamed body being pulled; background: answered, its
   * waitUntil work awaited (both still in flight on their isolate: their timers may fire).
   */
  state: 'queued' | 'batch' | 'waiting' | 'streaming' | 'background' | 'done';
  /** Its streamed body, while `streaming` (src/sandbox/response-stream.ts). */
  stream: StreamAbort | null;
  /** Its handler gave waitUntil work still pending when its result came. */
  background: boolean;
  /** Streaming with no call into its isolate running (waiting for its client): it opens no request window. */
  idle: boolean;
  /** Settles the `ended` promise of an answer given before the request ended (streamed, background). */
  onEnded: (() => void) | null;
  /** The isolate it was dispatched to. */
  inst: IsolateInstance | null;
  deadlinePassed: boolean;
  graced: boolean;
  timer: NodeJS.Timeout | null;
}

/** A streamed body as its request's scheduler ends it. */
export interface StreamAbort {
  /** The request ended under the stream (a deadline, its isolate disposed): the pull in progress gets `result`. */
  abort(result: InvokeResult): void;
}
