// The tenant's setTimeout and clearTimeout: each timer waits on the host (src/sandbox/timer-host.ts), which lets it fire only while a request it may belong to is in flight; a callback runs inside that request's time limit.
// @ts-check

/** @typedef {{ apply(self: undefined, args: unknown[], opts: object): Promise<unknown>, applyIgnored(self: undefined, args: unknown[]): void }} TimerReference */

const NativeMap = Map;
const mapHas = Function.prototype.call.bind(Map.prototype.has);
const mapSet = Function.prototype.call.bind(Map.prototype.set);
const mapDelete = Function.prototype.call.bind(Map.prototype.delete);
const then = Function.prototype.call.bind(Promise.prototype.then);
const apply = Reflect.apply;
const TypeErr = TypeError;
const setProto = Reflect.setPrototypeOf;
const RangeErr = RangeError;
const mapSize = Function.prototype.call.bind(/** @type {() => number} */ (Object.getOwnPropertyDescriptor(Map.prototype, 'size')?.get));

/** Most timers pending at once (the host's MAX_PENDING_TIMERS, src/sandbox/timer-host.ts, enforces it too). */
const MAX_PENDING = 1000;

/** @type {TimerReference | null} */
let host = null;
let nextId = 1;
/** Timers set and neither fired, cleared nor cancelled by the host. */
const live = new NativeMap();

/**
 * The host's timer function, once per isolate (by the bootstrap; later calls change nothing).
 * @param {unknown} ref
 */
export function setTimerHost(ref) {
  if (host === null) host = /** @type {TimerReference} */ (ref);
}

/**
 * Timers the host cancelled (their requests ended): forgotten.
 * @param {unknown} ids
 */
export function forgetTimers(ids) {
  if (!Array.isArray(ids)) return;
  for (let i = 0; i < ids.length; i++) mapDelete(live, ids[i]);
}

/** @param {object} o */
const bare = (o) => {
  setProto(o, null);
  return o;
};

/**
 * @param {unknown} fn
 * @param {unknown} [ms]
 * @param {...unknown} args
 * @returns {number}
 */
export function setTimeout(fn, ms, ...args) {
  if (typeof fn !== 'function') throw new TypeErr('setTimeout: the callback must be a function (a string of code is not run)');
  if (mapSize(live) >= MAX_PENDING) throw new RangeErr(`setTimeout: more than ${MAX_PENDING} timers pending`);
  const delay = Number(ms);
  const id = nextId++;
  mapSet(live, id, true);
  const ref = host;
  if (ref === null) return id;
  then(
    ref.apply(undefined, [delay > 0 ? delay : 0, id], bare({ result: bare({ promise: true }) })),
    () => {
      if (!mapDelete(live, id)) return;
      apply(fn, undefined, args);
    },
    // Refused (set outside any request): it never fires.
    () => {
      mapDelete(live, id);
    },
  );
  return id;
}

/** @param {unknown} id */
export function clearTimeout(id) {
  if (typeof id !== 'number' || !mapHas(live, id)) return;
  mapDelete(live, id);
  host?.applyIgnored(undefined, [-1, id]);
}
