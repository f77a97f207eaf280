// One node of a cluster for its whole membership: heartbeats in the database, tries to lead (and plans while it leads), listens for changes, and reconciles what it serves with what is placed on it, at each change and periodically (which repairs a missed notification).

import type { Registry } from '../registry/registry.js';
import type { Log } from '../supervisor/worker-pool.js';
import { ChangeFeed } from './change-feed.js';
import type { ClusterChange, ClusterStore, NodeRow } from './cluster-store.js';
import { Leadership } from './leadership.js';
import { type LocalServing, revisionOf } from './local-serving.js';
import { planRound } from './planner.js';

/** The timings of a cluster (schemas/config.json `cluster`), ms. */
export interface ClusterTimings {
  /** Between two heartbeats of a node (and two placement rounds of the leader). */
  readonly heartbeatMs: number;
  /** A node whose last heartbeat is older loses its placements. */
  readonly leaseMs: number;
  /** Between two full reconciles of a node. */
  readonly reconcileMs: number;
  /** How long POST, PUT and DELETE wait for the placed nodes' reports before answering 202. */
  readonly readyWaitMs: number;
}

/** What a node is. */
export interface NodeIdentity {
  readonly name: string;
  readonly address: string;
  /** Where its control API answers, `http://ADDRESS:PORT`. */
  readonly apiUrl: string;
}

/** A node's part in the cluster: membership, leadership, and keeping {@link LocalServing} in step. */
export class ClusterNode {
  readonly #store: ClusterStore;
  readonly #registry: Registry;
  readonly #local: LocalServing;
  readonly #log: Log;
  readonly #timings: ClusterTimings;
  readonly #me: NodeIdentity;
  readonly #leader: Leadership;
  readonly #feed: ChangeFeed;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Per-server reconciles, chained so that one server's never overlap. */
  readonly #chains = new Map<number, Promise<void>>();
  /** A full reconcile running, and whether another was asked for meanwhile. */
  #full: Promise<void> | null = null;
  #fullAgain = false;
  #planning: Promise<void> | null = null;
  #planAgain = false;
  /** Whether the last heartbeat reached the database. */
  #beating = false;

  constructor(opts: { store: ClusterStore; registry: Registry; local: LocalServing; log: Log; timings: ClusterTimings; me: NodeIdentity; url: string }) {
    this.#store = opts.store;
    this.#registry = opts.registry;
    this.#local = opts.local;
    this.#log = opts.log;
    this.#timings = opts.timings;
    this.#me = opts.me;
    this.#leader = new Leadership(opts.url, opts.log, opts.me.name, opts.timings.leaseMs);
    this.#feed = new ChangeFeed(opts.url, opts.log, (c) => this.#onChange(c));
  }

  /** This node's name. */
  get name(): string {
    return this.#me.name;
  }

  /** Whether this node leads now. */
  get leading(): boolean {
    return this.#leader.leading;
  }

  /** Joins: the first heartbeat (rejects when the database cannot be reached), then the feed, the timers and a first reconcile. */
  async join(): Promise<void> {
    await this.#store.heartbeat(this.#me.name, this.#me.address, this.#me.apiUrl);
    // A restarted node serves nothing yet: what its last run reported is no longer true.
    await this.#store.clearReports(this.#me.name);
    this.#beating = true;
    await this.#store.notify({ kind: 'nodes' });
    await this.#feed.start();
    await this.#tick();
    this.#heartbeatTimer = setInterval(() => void this.#tick(), this.#timings.heartbeatMs);
    this.#reconcileTimer = setInterval(() => this.reconcileAll(), this.#timings.reconcileMs);
  }

  /** Heartbeat, then (leading) a placement round. Never rejects. */
  async #tick(): Promise<void> {
    try {
      await this.#store.heartbeat(this.#me.name, this.#me.address, this.#me.apiUrl);
      if (!this.#beating) this.#log.info({}, 'cluster: heartbeats reach the database again');
      this.#beating = true;
    } catch (err) {
      if (this.#beating) this.#log.warn({ err: (err as Error).message }, 'cluster: a heartbeat failed; serving on what this node has');
      this.#beating = false;
      return;
    }
    if (await this.#leader.tryLead()) this.#plan();
  }

  /** A placement round (leader only), coalesced: one at a time, one more if asked meanwhile. */
  #plan(): void {
    if (this.#closed || !this.#leader.leading) return;
    if (this.#planning !== null) {
      this.#planAgain = true;
      return;
    }
    // Placements are taken from nodes out of the lease only by a leader that has led for a lease:
    // one that just (re)gained the lock may not have seen the others' heartbeats yet.
    this.#planning = planRound(this.#store, this.#timings.leaseMs, this.#leader.ledForMs >= this.#timings.leaseMs)
      .then(
        (r) => {
          if (r.moved.length > 0) this.#log.info({ moved: r.moved, live: r.live }, 'cluster: placements changed');
        },
        (err: unknown) => this.#log.warn({ err: (err as Error).message }, 'cluster: a placement round failed'),
      )
      .finally(() => {
        this.#planning = null;
        if (this.#planAgain) {
          this.#planAgain = false;
          this.#plan();
        }
      });
  }

  #onChange(change: ClusterChange | null): void {
    if (this.#closed) return;
    if (change === null) return this.reconcileAll();
    if (change.kind !== 'placement') this.#plan();
    if (change.kind !== 'nodes') this.reconcile(change.httpdid);
  }

  /** Brings one server in step here (chained after that server's last reconcile). Never rejects. */
  reconcile(httpdid: number): void {
    const prev = this.#chains.get(httpdid) ?? Promise.resolve();
    const next = prev.then(() => this.#reconcileOne(httpdid)).catch((err: unknown) => this.#log.warn({ httpdid, err: (err as Error).message }, 'cluster: a reconcile failed; retried at the next one'));
    this.#chains.set(httpdid, next);
    void next.finally(() => {
      if (this.#chains.get(httpdid) === next) this.#chains.delete(httpdid);
    });
  }

  async #reconcileOne(httpdid: number): Promise<void> {
    if (this.#closed) return;
    const [row, placed, secrets] = await Promise.all([this.#store.server(httpdid), this.#store.placementsOf(httpdid), this.#registry.secrets(httpdid)]);
    const revision = row === undefined ? '' : revisionOf(row.version, secrets);
    if (row === undefined || row.state !== 'running' || !placed.includes(this.#me.name)) {
      if (this.#local.revision(httpdid) === undefined) {
        // Not served here: a report of this node left over (a drop whose unreport failed) goes.
        if ((await this.#store.reportsOf(httpdid)).some((r) => r.node === this.#me.name)) await this.#store.unreport(httpdid, this.#me.name);
        return;
      }
      // Moved elsewhere (not deleted, not failed): make before break, served here until every node it
      // moved to serves it, so that the balancer always has a node to send to.
      if (row !== undefined && row.state === 'running' && placed.length > 0 && !(await this.#servedElsewhere(httpdid, placed, revision))) {
        setTimeout(() => this.reconcile(httpdid), this.#timings.heartbeatMs).unref();
        return;
      }
      await this.#local.drop(httpdid);
      await this.#store.unreport(httpdid, this.#me.name);
      return;
    }
    try {
      await this.#local.serve(row, revision);
      await this.#store.report(httpdid, this.#me.name, revision, 'ready', null);
    } catch (err) {
      const reason = (err as Error).message;
      this.#log.warn({ httpdid, revision, reason }, 'cluster: could not serve a server placed here; retried at the next reconcile');
      await this.#store.report(httpdid, this.#me.name, revision, 'failed', reason);
    }
  }

  /** Whether every node of `placed` reports `revision` of `httpdid` ready. */
  async #servedElsewhere(httpdid: number, placed: readonly string[], revision: string): Promise<boolean> {
    const reports = await this.#store.reportsOf(httpdid);
    return placed.every((n) => reports.some((r) => r.node === n && r.revision === revision && r.state === 'ready'));
  }

  /** A full reconcile (coalesced): every server placed here, and every local one no longer placed. Never rejects. */
  reconcileAll(): void {
    if (this.#closed) return;
    if (this.#full !== null) {
      this.#fullAgain = true;
      return;
    }
    this.#full = this.#reconcileEverything()
      .catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'cluster: a full reconcile failed; serving on what this node has'))
      .finally(() => {
        this.#full = null;
        if (this.#fullAgain) {
          this.#fullAgain = false;
          this.reconcileAll();
        }
      });
  }

  async #reconcileEverything(): Promise<void> {
    const placed = new Set(await this.#store.placedOn(this.#me.name));
    const reports = await this.#store.reports();
    const ids = new Set([...placed, ...this.#local.served()]);
    for (const [httpdid, rows] of reports) if (rows.some((r) => r.node === this.#me.name)) ids.add(httpdid);
    for (const httpdid of ids) {
      const mine = reports.get(httpdid)?.find((r) => r.node === this.#me.name);
      const served = this.#local.revision(httpdid);
      // In step already (served at the revision reported ready): only a changed row needs the full look.
      if (placed.has(httpdid) && served !== undefined && mine?.state === 'ready' && mine.revision === served) {
        const row = await this.#store.server(httpdid);
        const secrets = await this.#registry.secrets(httpdid);
        if (row !== undefined && row.state === 'running' && revisionOf(row.version, secrets) === served) continue;
      }
      this.reconcile(httpdid);
    }
  }

  /** The nodes as the database knows them now. */
  nodes(): Promise<NodeRow[]> {
    return this.#store.nodes(this.#timings.leaseMs);
  }

  /**
   * Leaves: no more heartbeats or reconciles, leadership given up, the node marked gone at once (the
   * next leader re-places its servers without waiting for the lease), then, for at most
   * `handoverMs`, waits until every server it serves is served elsewhere (make before break across
   * a graceful stop; a server with no other live node to go to is not waited for). Local servers are
   * not dropped here (the manager's drain stops them). Never rejects.
   */
  async leave(handoverMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeatTimer);
    clearInterval(this.#reconcileTimer);
    await this.#feed.close();
    await this.#leader.close();
    try {
      await this.#store.leave(this.#me.name);
      await this.#store.notify({ kind: 'nodes' });
      const deadline = Date.now() + handoverMs;
      for (const httpdid of this.#local.served()) {
        while (Date.now() < deadline && !(await this.#handedOver(httpdid))) await new Promise((r) => setTimeout(r, 100));
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'cluster: could not record leaving (or hand over); the lease will expire');
    }
  }

  /** Whether `httpdid` is served by other live nodes at its current revision (or cannot be: deleted, failed, no other live node). */
  async #handedOver(httpdid: number): Promise<boolean> {
    const row = await this.#store.server(httpdid);
    if (row === undefined || row.state !== 'running') return true;
    const others = (await this.#store.nodes(this.#timings.leaseMs)).filter((n) => n.live && n.name !== this.#me.name);
    if (others.length === 0) return true;
    const placed = await this.#store.placementsOf(httpdid);
    if (placed.length === 0 || placed.includes(this.#me.name)) return false;
    return this.#servedElsewhere(httpdid, placed, revisionOf(row.version, await this.#registry.secrets(httpdid)));
  }
}
