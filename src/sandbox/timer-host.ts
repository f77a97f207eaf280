// The host side of the tenant's setTimeout: each timer is owned by the requests in flight on its isolate when it was set, waits on a host timer, and is cancelled when the last of them ends (so no timer runs tenant code outside a request).

import type ivm from 'isolated-vm';

/** Most timers pending at once in one isolate; more is a RangeError in the handler. */
export const MAX_PENDING_TIMERS = 1000;

/** One pending timer: its host timer and the requests it may still belong to. */
interface Pending {
  readonly handle: NodeJS.Timeout;
  readonly owners: Set<number>;
}

/**
 * The timers of one lane's isolates. A timer is set only while a request is in flight on its
 * isolate (a timer set at module level, or by code running outside any request, is refused); it
 * belongs to every request in flight there then (isolated-vm gives no async context to tell which
 * one's code set it) and is cancelled once all of them have ended: at their answers, or their
 * deadline. Cancelled ids are told to the guest with its next batch, which forgets them.
 */
export class TimerHost {
  #owners: (isolate: ivm.Isolate) => number[] = () => [];
  readonly #pending = new Map<ivm.Isolate, Map<number, Pending>>();
  readonly #cancelled = new Map<ivm.Isolate, number[]>();

  /** Sets how the requests in flight on an isolate are found (the lane's scheduler, once made). */
  bindOwners(owners: (isolate: ivm.Isolate) => number[]): void {
    this.#owners = owners;
  }

  /**
   * A timer `id` of `isolate`: resolves after `ms` unless cancelled first (then never).
   * @throws (rejects) when no request is in flight there, or MAX_PENDING_TIMERS are pending
   */
  start(isolate: ivm.Isolate, ms: number, id: number): Promise<void> {
    const owners = this.#owners(isolate);
    if (owners.length === 0) return Promise.reject(new Error('a timer set outside any request never fires'));
    let per = this.#pending.get(isolate);
    if (per === undefined) this.#pending.set(isolate, (per = new Map()));
    if (per.size >= MAX_PENDING_TIMERS) return Promise.reject(new RangeError(`more than ${MAX_PENDING_TIMERS} timers pending`));
    const mine = per;
    const delay = Number.isFinite(ms) && ms > 0 ? Math.min(ms, 2 ** 31 - 1) : 0;
    return new Promise((resolve) => {
      const handle = setTimeout(() => {
        this.#forget(isolate, mine, id);
        if (!isolate.isDisposed) resolve();
      }, delay);
      mine.set(id, { handle, owners: new Set(owners) });
    });
  }

  /** The guest cleared timer `id` (clearTimeout). */
  clear(isolate: ivm.Isolate, id: number): void {
    const per = this.#pending.get(isolate);
    const p = per?.get(id);
    if (per === undefined || p === undefined) return;
    clearTimeout(p.handle);
    this.#forget(isolate, per, id);
  }

  /** Request `requestId` on `isolate` ended: the timers no other request in flight may own are cancelled. */
  requestEnded(isolate: ivm.Isolate, requestId: number): void {
    const per = this.#pending.get(isolate);
    if (per === undefined) return;
    for (const [id, p] of [...per]) {
      if (!p.owners.delete(requestId) || p.owners.size > 0) continue;
      clearTimeout(p.handle);
      this.#forget(isolate, per, id);
      let c = this.#cancelled.get(isolate);
      if (c === undefined) this.#cancelled.set(isolate, (c = []));
      c.push(id);
    }
  }

  /** The ids cancelled on `isolate` since the last call (for its next batch, so the guest forgets them). */
  takeCancelled(isolate: ivm.Isolate): number[] {
    const c = this.#cancelled.get(isolate);
    if (c === undefined) return [];
    this.#cancelled.delete(isolate);
    return c;
  }

  #forget(isolate: ivm.Isolate, per: Map<number, Pending>, id: number): void {
    per.delete(id);
    if (per.size === 0 && this.#pending.get(isolate) === per) this.#pending.delete(isolate);
  }
}
