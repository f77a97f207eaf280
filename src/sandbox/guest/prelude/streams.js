// The tenant's ReadableStream (WHATWG Streams Standard: the default-reader parts a streamed Response body uses), in plain JavaScript; the bootstrap reads a stream through `streamIterator`, never through methods a tenant could replace.
// @ts-check

// Captured now, before any tenant code: nothing below looks up a global or a prototype method later.
const NativeWeakMap = WeakMap;
const wmGet = Function.prototype.call.bind(WeakMap.prototype.get);
const wmSet = Function.prototype.call.bind(WeakMap.prototype.set);
const NativePromise = Promise;
const then = Function.prototype.call.bind(Promise.prototype.then);
const resolved = (/** @type {unknown} */ v) => new NativePromise((resolve) => resolve(v));
const rejected = (/** @type {unknown} */ e) => new NativePromise((_, reject) => reject(e));
const apply = Reflect.apply;
const setProto = Reflect.setPrototypeOf;
const freeze = Object.freeze;
const TypeErr = TypeError;
const RangeErr = RangeError;
const asyncIterator = Symbol.asyncIterator;
const create = Object.create;
const shift = Function.prototype.call.bind(Array.prototype.shift);
const iteratorSymbol = Symbol.iterator;

/**
 * @template {object} T
 * @param {T} o
 * @returns {T}
 */
const bare = (o) => {
  setProto(o, null);
  return o;
};

/** An iterator result, without a prototype a tenant could have given getters. */
const result = (/** @type {unknown} */ value, /** @type {boolean} */ done) => bare({ value, done });

/**
 * @typedef {{ resolve: (r: unknown) => void, reject: (e: unknown) => void }} ReadRequest
 * @typedef {{
 *   state: 'readable' | 'closed' | 'errored', queue: unknown[], head: number, hwm: number,
 *   started: boolean, pulling: boolean, pullAgain: boolean, closeRequested: boolean, error: unknown,
 *   reads: ReadRequest[], closedWaits: ReadRequest[], locked: boolean, disturbed: boolean,
 *   source: object | undefined, pull: Function | undefined, cancel: Function | undefined, controller: object
 * }} StreamState
 */

/** Each ReadableStream's state, and each controller's and reader's stream. */
const STREAMS = new NativeWeakMap();
const CONTROLLERS = new NativeWeakMap();
const READERS = new NativeWeakMap();

/** @param {unknown} s @returns {StreamState} */
function stateOf(s) {
  const st = wmGet(STREAMS, s);
  if (st === undefined) throw new TypeErr('Illegal invocation: not a ReadableStream');
  return st;
}

/** @param {StreamState} st */
const queued = (st) => st.queue.length - st.head;

/** @param {StreamState} st @returns {unknown} */
function dequeue(st) {
  const v = st.queue[st.head];
  st.queue[st.head] = undefined;
  st.head++;
  if (st.head === st.queue.length) {
    st.queue = bare([]);
    st.head = 0;
  }
  return v;
}

/** @param {StreamState} st */
function finishClose(st) {
  st.state = 'closed';
  const reads = st.reads;
  st.reads = bare([]);
  for (let i = 0; i < reads.length; i++) reads[i].resolve(result(undefined, true));
  settleClosed(st);
}

/** Settles the `closed` promises of the stream's readers. @param {StreamState} st */
function settleClosed(st) {
  const waits = st.closedWaits;
  st.closedWaits = bare([]);
  for (let i = 0; i < waits.length; i++) {
    if (st.state === 'closed') waits[i].resolve(undefined);
    else waits[i].reject(st.error);
  }
}

/** @param {StreamState} st @param {unknown} e */
function fail(st, e) {
  if (st.state !== 'readable') return;
  st.state = 'errored';
  st.error = e;
  st.queue = bare([]);
  st.head = 0;
  const reads = st.reads;
  st.reads = bare([]);
  for (let i = 0; i < reads.length; i++) reads[i].reject(e);
  settleClosed(st);
}

/** Calls the source's `pull` when a reader waits or the queue is under its high-water mark, one call at a time. @param {StreamState} st */
function pullIfNeeded(st) {
  if (!st.started || st.state !== 'readable' || st.closeRequested || st.pull === undefined) return;
  if (st.reads.length === 0 && st.hwm - queued(st) <= 0) return;
  if (st.pulling) {
    st.pullAgain = true;
    return;
  }
  st.pulling = true;
  let p;
  try {
    p = resolved(apply(st.pull, st.source, [st.controller]));
  } catch (e) {
    p = rejected(e);
  }
  then(
    p,
    () => {
      st.pulling = false;
      if (st.pullAgain) {
        st.pullAgain = false;
        pullIfNeeded(st);
      }
    },
    (/** @type {unknown} */ e) => fail(st, e),
  );
}

/** @param {StreamState} st @returns {Promise<unknown>} */
function readFrom(st) {
  st.disturbed = true;
  if (st.state === 'errored') return rejected(st.error);
  if (queued(st) > 0) {
    const v = dequeue(st);
    if (st.closeRequested && queued(st) === 0) finishClose(st);
    else pullIfNeeded(st);
    return resolved(result(v, false));
  }
  if (st.state === 'closed') return resolved(result(undefined, true));
  return new NativePromise((resolve, reject) => {
    st.reads[st.reads.length] = bare({ resolve, reject });
    pullIfNeeded(st);
  });
}

/** @param {StreamState} st @param {unknown} reason @returns {Promise<undefined>} */
function cancelStream(st, reason) {
  st.disturbed = true;
  if (st.state === 'closed') return resolved(undefined);
  if (st.state === 'errored') return rejected(st.error);
  st.queue = bare([]);
  st.head = 0;
  finishClose(st);
  const cancel = st.cancel;
  if (cancel === undefined) return resolved(undefined);
  let p;
  try {
    p = resolved(apply(cancel, st.source, [reason]));
  } catch (e) {
    p = rejected(e);
  }
  return then(p, () => undefined);
}

export class ReadableStreamDefaultController {
  constructor() {
    throw new TypeErr('Illegal constructor');
  }
  /** @returns {number | null} */
  get desiredSize() {
    const st = wmGet(CONTROLLERS, this);
    if (st === undefined) throw new TypeErr('Illegal invocation');
    return st.state === 'errored' ? null : st.state === 'closed' ? 0 : st.hwm - queued(st);
  }
  /** @param {unknown} chunk */
  enqueue(chunk) {
    const st = wmGet(CONTROLLERS, this);
    if (st === undefined) throw new TypeErr('Illegal invocation');
    if (st.closeRequested || st.state !== 'readable') throw new TypeErr('ReadableStream: cannot enqueue into a closed stream');
    if (st.reads.length > 0) /** @type {ReadRequest} */ (shift(st.reads)).resolve(result(chunk, false));
    else st.queue[st.queue.length] = chunk;
    pullIfNeeded(st);
  }
  close() {
    const st = wmGet(CONTROLLERS, this);
    if (st === undefined) throw new TypeErr('Illegal invocation');
    if (st.closeRequested || st.state !== 'readable') throw new TypeErr('ReadableStream: the stream is already closing or closed');
    st.closeRequested = true;
    if (queued(st) === 0) finishClose(st);
  }
  /** @param {unknown} e */
  error(e) {
    const st = wmGet(CONTROLLERS, this);
    if (st === undefined) throw new TypeErr('Illegal invocation');
    fail(st, e);
  }
}
const ControllerProto = ReadableStreamDefaultController.prototype;

export class ReadableStreamDefaultReader {
  /** @param {unknown} stream */
  constructor(stream) {
    const st = stateOf(stream);
    if (st.locked) throw new TypeErr('ReadableStream: the stream is locked to a reader');
    st.locked = true;
    wmSet(READERS, this, st);
  }
  /** @returns {Promise<{ value: unknown, done: boolean }>} */
  read() {
    const st = wmGet(READERS, this);
    if (st === undefined || st === null) return rejected(new TypeErr('ReadableStreamDefaultReader: the reader is released'));
    return /** @type {Promise<{ value: unknown, done: boolean }>} */ (readFrom(st));
  }
  /** @param {unknown} [reason] */
  cancel(reason) {
    const st = wmGet(READERS, this);
    if (st === undefined || st === null) return rejected(new TypeErr('ReadableStreamDefaultReader: the reader is released'));
    return cancelStream(st, reason);
  }
  releaseLock() {
    const st = wmGet(READERS, this);
    if (st === undefined || st === null) return;
    st.locked = false;
    wmSet(READERS, this, null);
  }
  /** @returns {Promise<undefined>} */
  get closed() {
    const st = wmGet(READERS, this);
    if (st === undefined || st === null) return rejected(new TypeErr('ReadableStreamDefaultReader: the reader is released'));
    if (st.state === 'closed') return resolved(undefined);
    if (st.state === 'errored') return rejected(st.error);
    return new NativePromise((resolve, reject) => {
      st.closedWaits[st.closedWaits.length] = bare({ resolve, reject });
    });
  }
}

export class ReadableStream {
  /**
   * @param {{ start?: unknown, pull?: unknown, cancel?: unknown, type?: unknown }} [source]
   * @param {{ highWaterMark?: unknown }} [strategy]
   */
  constructor(source = {}, strategy = {}) {
    if (source === null || typeof source !== 'object') throw new TypeErr('ReadableStream: the underlying source must be an object');
    if (source.type !== undefined) throw new RangeErr('ReadableStream: byte streams (type: "bytes") are not supported by isohttpd');
    const hwm = strategy?.highWaterMark === undefined ? 1 : Number(strategy.highWaterMark);
    if (!(hwm >= 0)) throw new RangeErr('ReadableStream: highWaterMark must be a non-negative number');
    const pull = source.pull;
    const cancel = source.cancel;
    const start = source.start;
    if (pull !== undefined && typeof pull !== 'function') throw new TypeErr('ReadableStream: pull must be a function');
    if (cancel !== undefined && typeof cancel !== 'function') throw new TypeErr('ReadableStream: cancel must be a function');
    if (start !== undefined && typeof start !== 'function') throw new TypeErr('ReadableStream: start must be a function');
    const controller = create(ControllerProto);
    /** @type {StreamState} */
    const st = bare({
      state: 'readable',
      queue: bare([]),
      head: 0,
      hwm,
      started: false,
      pulling: false,
      pullAgain: false,
      closeRequested: false,
      error: undefined,
      reads: bare([]),
      closedWaits: bare([]),
      locked: false,
      disturbed: false,
      source,
      pull,
      cancel,
      controller,
    });
    wmSet(STREAMS, this, st);
    wmSet(CONTROLLERS, controller, st);
    const started = start === undefined ? undefined : apply(start, source, [controller]);
    then(
      resolved(started),
      () => {
        st.started = true;
        pullIfNeeded(st);
      },
      (/** @type {unknown} */ e) => fail(st, e),
    );
  }
  /**
   * A stream of what an iterable or async iterable yields.
   * @param {unknown} iterable
   */
  static from(iterable) {
    if (iterable === null || (typeof iterable !== 'object' && typeof iterable !== 'function')) throw new TypeErr('ReadableStream.from: the argument must be iterable');
    const any = /** @type {any} */ (iterable);
    const method = any[asyncIterator] ?? any[iteratorSymbol];
    if (typeof method !== 'function') throw new TypeErr('ReadableStream.from: the argument must be iterable');
    const it = apply(method, iterable, []);
    const next = it.next;
    return new ReadableStream(
      {
        pull(/** @type {ReadableStreamDefaultController} */ c) {
          return then(resolved(apply(next, it, [])), (/** @type {any} */ r) => {
            if (r === null || typeof r !== 'object') throw new TypeErr('ReadableStream.from: the iterator result is not an object');
            if (r.done) c.close();
            else c.enqueue(r.value);
          });
        },
        cancel(/** @type {unknown} */ reason) {
          const ret = it.return;
          return typeof ret === 'function' ? then(resolved(apply(ret, it, [reason])), () => undefined) : undefined;
        },
      },
      { highWaterMark: 0 },
    );
  }
  get locked() {
    return stateOf(this).locked;
  }
  /** @param {unknown} [reason] */
  cancel(reason) {
    const st = stateOf(this);
    if (st.locked) return rejected(new TypeErr('ReadableStream: cannot cancel a locked stream'));
    return cancelStream(st, reason);
  }
  /** @param {{ mode?: unknown }} [options] */
  getReader(options) {
    if (options?.mode !== undefined) throw new RangeErr('ReadableStream: only the default reader is supported by isohttpd');
    return new ReadableStreamDefaultReader(this);
  }
  /** @param {{ preventCancel?: unknown }} [options] */
  values(options) {
    const reader = new ReadableStreamDefaultReader(this);
    const keep = options?.preventCancel === true;
    return freeze(
      bare({
        next: () => reader.read(),
        return: (/** @type {unknown} */ v) => {
          const done = () => {
            reader.releaseLock();
            return result(v, true);
          };
          return keep ? resolved(done()) : then(reader.cancel(v), done);
        },
        [asyncIterator]() {
          return this;
        },
      }),
    );
  }
  [asyncIterator]() {
    return this.values();
  }
}

/**
 * A stream made here, as a trusted iterator (`next()` and `return()` promises) over its chunks,
 * locking it; null for anything else, or for a stream already locked or read from. For the
 * bootstrap, which reads a Response body or a streamed message through it.
 * @param {unknown} s
 * @returns {{ next(): Promise<unknown>, return(): Promise<unknown> } | null}
 */
export function streamIterator(s) {
  const st = wmGet(STREAMS, s);
  if (st === undefined || st.locked || st.disturbed) return null;
  st.locked = true;
  return freeze(
    bare({
      next: () => readFrom(st),
      return: () => cancelStream(st, undefined),
    }),
  );
}

/**
 * Whether `s` is a stream made here that is locked or was read from (a Response over it cannot be sent).
 * @param {unknown} s
 */
export function streamUsed(s) {
  const st = wmGet(STREAMS, s);
  return st !== undefined && (st.locked || st.disturbed);
}

/**
 * Whether `s` is a ReadableStream made here.
 * @param {unknown} s
 */
export function isStream(s) {
  return wmGet(STREAMS, s) !== undefined;
}

/**
 * A stream of one chunk (the bytes or text of a body that was given whole).
 * @param {unknown} chunk
 */
export function streamOf(chunk) {
  return new ReadableStream({
    start(/** @type {ReadableStreamDefaultController} */ c) {
      if (chunk !== '' && chunk !== null) c.enqueue(chunk);
      c.close();
    },
  });
}
