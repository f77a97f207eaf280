// The pieces of one request body as they arrive, joined once into an exact-size buffer of its own.

/** Where a chunked decoder reports chunk data: offsets into the buffer it was fed. */
export interface ChunkSink {
  data(buf: Buffer, from: number, to: number): void;
}

const EMPTY = new Uint8Array(0);

/** Copies `buf[from, to)` into `out` at `at`. */
function copyInto(out: Uint8Array, at: number, buf: Buffer, from: number, to: number): void {
  out.set(new Uint8Array(buf.buffer, buf.byteOffset + from, to - from), at);
}

/**
 * A body's bytes: `#parts` from earlier inputs (views for Content-Length, as before; copies for
 * chunks) and `#spans`, offset pairs of chunk data in the current input, copied out by
 * {@link keep} if the body does not end in it. (A class rather than closures per decoder, so
 * optimized callers share its methods.)
 */
export class BodyParts implements ChunkSink {
  /** When set, body bytes are handed on as they arrive (views of the input) instead of being kept. */
  readonly #stream: ((chunk: Buffer) => void) | null;
  #parts: Uint8Array[] = [];
  #spans: number[] = [];
  #spanBytes = 0;
  #received = 0;

  constructor(stream: ((chunk: Buffer) => void) | null = null) {
    this.#stream = stream;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Chunk data at `buf[from, to)`, `buf` being the current input. */
  data(buf: Buffer, from: number, to: number): void {
    if (this.#stream !== null) {
      this.#received += to - from;
      this.#stream(buf.subarray(from, to));
      return;
    }
    this.#spans.push(from, to);
    this.#spanBytes += to - from;
    this.#received += to - from;
  }

  /** A view of body bytes (kept as it is). */
  view(part: Buffer): void {
    this.#received += part.length;
    if (this.#stream !== null) this.#stream(part);
    else this.#parts.push(part);
  }

  /** The current input ends here: its chunk data becomes a copy of its own. */
  keep(input: Buffer): void {
    const spans = this.#spans;
    if (spans.length === 0) return;
    const out = new Uint8Array(this.#spanBytes);
    let at = 0;
    for (let i = 0; i + 1 < spans.length; i += 2) {
      const from = spans[i] as number;
      const to = spans[i + 1] as number;
      copyInto(out, at, input, from, to);
      at += to - from;
    }
    this.#parts.push(out);
    this.#spans = [];
    this.#spanBytes = 0;
  }

  /** The whole body, one exact-size buffer that shares memory with nothing else; then empty. */
  join(input: Buffer): Uint8Array {
    const total = this.#received;
    let out = EMPTY;
    if (total > 0) {
      out = new Uint8Array(total);
      let at = 0;
      for (const p of this.#parts) {
        out.set(p, at);
        at += p.length;
      }
      const spans = this.#spans;
      for (let i = 0; i + 1 < spans.length; i += 2) {
        const from = spans[i] as number;
        const to = spans[i + 1] as number;
        copyInto(out, at, input, from, to);
        at += to - from;
      }
    }
    this.clear();
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    if (this.#parts.length > 0) this.#parts = [];
    if (this.#spans.length > 0) this.#spans = [];
    this.#spanBytes = 0;
    this.#received = 0;
  }
}
