// One request's body between the socket and the sandbox: bytes arrive from the decoder, the handler pulls them; bounded, with back-pressure.

import type { BodySource } from '../../sandbox/body-source.js';

/** Bytes buffered for one body before the connection stops reading the socket (at least; more when the server's `bodyWindowBytes` is larger). */
export const BODY_WINDOW_BYTES = 64 * 1024;

interface Waiter {
  readonly max: number;
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

const EMPTY = new Uint8Array(0);

function take(chunks: Buffer[], total: number, max: number): { out: Uint8Array; rest: Buffer[]; restBytes: number } {
  const n = max < 0 || max > total ? total : max;
  const out = new Uint8Array(n);
  let at = 0;
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (at < n) {
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k < c.length) rest.push(c.subarray(k));
    } else {
      rest.push(c);
    }
  }
  return { out, rest, restBytes: total - n };
}

/**
 * A streaming request body. The decoder `push`es chunks and calls `end` or `fail`; the sandbox
 * `read`s. Everything handed out is a fresh, exactly-sized copy. After the response, `discardRest`
 * drops what is left (the rest of the body is then read and thrown away).
 */
export class BodyBuffer implements BodySource {
  readonly #onFirstRead: () => void;
  readonly #onDrained: () => void;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #received = 0;
  #ended = false;
  #error: Error | null = null;
  #discarding = false;
  #read = false;
  #waiter: Waiter | null = null;
  readonly #windowBytes: number;
  /** Set by {@link whenFilled}: called once `need` bytes are buffered, or the body ended or failed. */
  #filled: { readonly need: number; readonly then: () => void } | null = null;

  /**
   * @param onFirstRead called on the handler's first read that has to wait (for 100-continue).
   * @param onDrained called when the buffer falls back under the window (to resume reading).
   * @param windowBytes bytes buffered before the connection stops reading (at least {@link BODY_WINDOW_BYTES})
   */
  constructor(onFirstRead: () => void, onDrained: () => void, windowBytes: number = BODY_WINDOW_BYTES) {
    this.#onFirstRead = onFirstRead;
    this.#onDrained = onDrained;
    this.#windowBytes = Math.max(BODY_WINDOW_BYTES, windowBytes);
  }

  /**
   * Calls `then` once `need` bytes are buffered, or the body has ended or failed (at once if so
   * already): the connection starts the handler then (the server's `bodyWindowBytes`).
   */
  whenFilled(need: number, then: () => void): void {
    this.#filled = { need, then };
    this.#checkFilled();
  }

  #checkFilled(): void {
    const f = this.#filled;
    if (f === null || !(this.#ended || this.#error !== null || this.#bytes >= f.need)) return;
    this.#filled = null;
    f.then();
  }

  /** Body bytes received so far (kept ones; not those dropped after the response), bytes. */
  get received(): number {
    return this.#received;
  }

  /** Whether every byte of the body has arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the handler has asked for bytes beyond what came with the request. */
  get wasRead(): boolean {
    return this.#read;
  }

  /** Whether more than the window is buffered: the connection should stop reading. */
  get full(): boolean {
    return this.#bytes > this.#windowBytes;
  }

  push(chunk: Buffer): void {
    if (this.#discarding || this.#error !== null || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    this.#received += chunk.length;
    this.#serve();
    this.#checkFilled();
  }

  end(): void {
    this.#ended = true;
    this.#serve();
    this.#checkFilled();
  }

  fail(err: Error): void {
    if (this.#ended && this.#bytes === 0) return;
    this.#error = err;
    this.#chunks = [];
    this.#bytes = 0;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(err);
    this.#checkFilled();
  }

  /** The response is written: drop what is buffered and whatever else of this body arrives. */
  discardRest(): void {
    this.#discarding = true;
    this.#chunks = [];
    this.#bytes = 0;
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve(EMPTY);
    this.#onDrained();
  }

  takeBuffered(): { bytes: Uint8Array; complete: boolean } {
    const { out } = take(this.#chunks, this.#bytes, -1);
    const wasFull = this.full;
    this.#chunks = [];
    this.#bytes = 0;
    if (wasFull) this.#onDrained();
    return { bytes: out, complete: this.#ended };
  }

  read(max: number): Promise<Uint8Array> {
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#waiter !== null) return Promise.reject(new Error('a body read is already waiting'));
    if (!this.#read) {
      this.#read = true;
      if (!this.#ended && this.#bytes === 0) this.#onFirstRead();
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { max, resolve, reject };
      this.#serve();
    });
  }

  /** Answers a waiting read once there is something: up to `max` bytes (-1: all there is), or empty at the end. */
  #serve(): void {
    const w = this.#waiter;
    if (w === null) return;
    if (this.#bytes === 0 && !this.#ended) return;
    this.#waiter = null;
    const wasFull = this.full;
    const { out, rest, restBytes } = take(this.#chunks, this.#bytes, w.max);
    this.#chunks = rest;
    this.#bytes = restBytes;
    w.resolve(out);
    if (wasFull && !this.full) this.#onDrained();
  }
}
