// One tenant server hosted on this worker (server → version → isolate → request): its listener, the version serving, one being prepared, the replaced ones still running requests, its counters and CPU share.

import type { Socket } from 'node:net';
import { IsoError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import type { Outcome } from '../../core/outcome.js';
import type { InvokeResult, SandboxHooks, TenantSandbox } from '../../sandbox/tenant-sandbox.js';
import type { Contention } from './contention.js';
import { TrafficCounters } from './counters.js';
import { CpuShare } from './cpu-share.js';
import type { Cidr } from '../../core/cidr.js';
import { ServerEgress } from './egress/outbound.js';
import { Listener } from './listener.js';
import { type SharedAddresses, VirtualHostMember } from './shared-address.js';
import type { EgressPolicy, FromWorker, RequestFailure, ServerCounters, ToWorker, VirtualHostSpec } from './protocol.js';
import type { ServerContext } from './server-context.js';
import { ServerVersion } from './server-version.js';
import type { TailFeed } from './tail-feed.js';

/** What a hosted server needs from its worker process. */
export interface WorkerHooks {
  /** Sends a message to the control process. */
  send(msg: FromWorker): void;
  /**
   * isolated-vm lost control of one of the server's isolates (the worker must die). `disposed`: an
   * isolate the host had already disposed and answered for (the calls running on the server's fresh
   * isolate finish; new requests are refused here until it moves).
   */
  onCatastrophic(httpdid: number, message: string, disposed?: boolean): void;
  /** The activity of the worker's servers, shared by their CPU shares. */
  readonly contention: Contention;
  /** A server's requests in its sandbox went from 0 to 1, or back to 0 (the control process is told, for crash blame). */
  running(httpdid: number): void;
  /** The tailed servers and their request events (src/host/worker/tail-feed.ts). */
  readonly tail: TailFeed;
  /** The networks the operator opened to outbound fetch (config `egressAllowNetworks`). */
  readonly egressNetworks: readonly Cidr[];
}

/**
 * A tenant server on this worker. The listening socket, its connections and the counters live as
 * long as the server; versions come and go: `prepare` compiles a new one next to the one serving,
 * `commit` makes it current (new requests, on new and open connections, go to it; the old one is
 * disposed after its requests in flight), `abort` drops it.
 */
export class HostedServer {
  readonly httpdid: number;
  readonly #hooks: WorkerHooks;
  /** Its own listening socket, or its membership of a shared address (virtual hosts). */
  readonly #listener: Listener | VirtualHostMember;
  readonly #counters: TrafficCounters;
  /** Its outbound fetch: one connection pool, each version with its own allow list and limits. */
  readonly #egress: ServerEgress;
  readonly #cpu: CpuShare;
  #current: ServerVersion;
  /** A version compiled by `prepare`, waiting for `commit`. */
  #pending: ServerVersion | null = null;
  /** Replaced versions that still run requests. */
  readonly #retiring = new Set<ServerVersion>();
  /** Run time of this server's closed sandboxes (older versions), ns, so the CPU share never counts backwards. */
  #closedBusyNs = 0n;
  #sampling = false;
  #closed = false;

  private constructor(
    httpdid: number,
    sandbox: TenantSandbox,
    limits: Limits,
    exposeErrors: boolean,
    hooks: WorkerHooks,
    vhost: VirtualHostSpec | undefined,
    counters: TrafficCounters,
    egress: ServerEgress,
  ) {
    this.httpdid = httpdid;
    this.#hooks = hooks;
    this.#counters = counters;
    this.#egress = egress;
    this.#current = this.#version(sandbox, limits, exposeErrors);
    // The policy reads the limits of the version serving now (a redeploy may change them).
    this.#cpu = new CpuShare(
      () => this.#current.limits,
      {
        busyNs: () => this.#busyNs(),
        inFlight: () => this.#counters.inFlight,
        contended: () => hooks.contention.contended(httpdid, this.#counters.inFlight > 0),
      },
      (e) => hooks.send({ op: 'throttled', httpdid, ...e }),
    );
    const current = (): ServerContext => this.#current.ctx;
    const track = (socket: Socket): void => this.#counters.track(socket);
    this.#listener = vhost === undefined ? new Listener(current, track) : new VirtualHostMember(httpdid, vhost.hostnames, vhost.fallback, current, track);
  }

  /**
   * Compiles the server's first version and listens on the handle the control process bound.
   * @throws IsoError 422 (source), 409 (address in use), 500; the handle is closed on failure.
   */
  static async deploy(msg: Extract<ToWorker, { op: 'deploy' }>, handle: unknown, hooks: WorkerHooks, addresses: SharedAddresses): Promise<HostedServer> {
    const closeHandle = (): void => (handle as { close?: () => void } | undefined)?.close?.();
    if (handle === undefined) throw new IsoError('ISO_ERR_API_INTERNAL', 'deploy arrived without a listening handle');
    const counters = new TrafficCounters();
    const egress = serverEgress(hooks, counters);
    let sandbox: TenantSandbox;
    try {
      sandbox = await ServerVersion.compile(msg.source, msg.limits, sandboxHooks(msg.httpdid, hooks), msg.env, egress.forVersion(msg.egress, msg.limits));
    } catch (err) {
      closeHandle();
      await egress.close();
      throw err;
    }
    const server = new HostedServer(msg.httpdid, sandbox, msg.limits, msg.exposeErrors, hooks, msg.vhost, counters, egress);
    const front = server.#listener;
    try {
      if (front instanceof Listener) await front.listen(handle, msg.port);
      else if (msg.vhost !== undefined) await front.join(addresses, msg.vhost.key, msg.port, handle);
    } catch (err) {
      server.#cpu.close();
      await sandbox.close();
      await egress.close();
      closeHandle();
      throw err;
    }
    return server;
  }

  /** Requests of this server handed to the sandbox and not answered yet. */
  get inFlight(): number {
    return this.#counters.inFlight;
  }

  /** CPU time this server's isolates have used on this worker, ns (monotonic). */
  get busyNs(): bigint {
    return this.#busyNs();
  }

  /** The last heap sample of the serving isolate (V8's used heap plus external memory), bytes. */
  get heapUsed(): number {
    return this.#counters.heapUsed;
  }

  /**
   * What this server's isolates may make the worker hold, MiB: its `memoryMb` for each isolate of
   * each version (serving, prepared, replaced ones still running; a live isolate and its standby).
   */
  isolateMemoryMb(): number {
    let mb = 0;
    for (const v of this.#versions()) mb += v.limits.memoryMb * v.sandbox.isolateCount;
    return mb;
  }

  /**
   * The worker's memory is over its budget and this server is blamed (the RSS backstop): every
   * version's serving isolate is disposed and replaced, its requests in flight answered `memory`
   * with `detail`, a line written to the tenant's console. Returns null if there was no isolate to
   * reset, else a promise resolved once the calls that were running on them have returned.
   */
  resetMemory(detail: string): Promise<void> | null {
    const stopped: Array<Promise<void>> = [];
    for (const v of [this.#current, ...this.#retiring]) {
      const p = v.sandbox.reset('memory', detail);
      if (p !== null) stopped.push(p);
    }
    return stopped.length === 0 ? null : Promise.all(stopped).then(() => undefined);
  }

  /**
   * Compiles a new version next to the serving one; nothing switches yet.
   * @param exposeErrors whether the new version's error bodies carry the handler's detail
   * @param env the version's environment as JSON (an object of strings), the handler's second argument
   * @param egress the version's egress policy (null: no outbound access)
   * @throws IsoError 422 (source), 500 (the server stopped meanwhile).
   */
  async prepare(source: string, limits: Limits, exposeErrors: boolean, env: string, egress: EgressPolicy | null = null): Promise<void> {
    this.abort();
    const sandbox = await ServerVersion.compile(source, limits, sandboxHooks(this.httpdid, this.#hooks), env, this.#egress.forVersion(egress, limits));
    if (this.#closed) {
      await sandbox.close();
      throw new IsoError('ISO_ERR_API_INTERNAL', `server ${this.httpdid} was stopped during the redeploy`);
    }
    this.abort();
    this.#pending = this.#version(sandbox, limits, exposeErrors);
  }

  /** Switches new requests (and new connections) to the prepared version; the old one is disposed after its in-flight requests. */
  commit(): void {
    const next = this.#pending;
    if (next === null) throw new IsoError('ISO_ERR_API_INTERNAL', `no version of server ${this.httpdid} is prepared on this worker`);
    const old = this.#current;
    this.#pending = null;
    this.#current = next;
    if (old.retire()) void this.#dispose(old);
    else this.#retiring.add(old);
  }

  /** Drops a prepared version, if there is one. */
  abort(): void {
    const p = this.#pending;
    this.#pending = null;
    if (p === null) return;
    this.#closedBusyNs += p.sandbox.busyNs;
    void p.sandbox.close();
  }

  /** Client connections open now. */
  get connections(): number {
    return this.#listener.connections;
  }

  /** Accepts no new connection and winds the open ones down (idle ones close now, busy ones after their response): the worker is draining. */
  windDown(): void {
    this.#listener.windDown();
  }

  /**
   * isolated-vm lost control of one of this server's isolates: every version's requests are
   * answered now (see TenantSandbox.abandon), no isolate of it is entered again, and the server winds
   * down on this worker (the control process hosts it on a fresh one).
   */
  abandon(message: string): void {
    this.#sampling = true;
    this.#listener.windDown();
    this.abort();
    for (const v of [this.#current, ...this.#retiring]) v.sandbox.abandon(message);
  }

  /** Stops the server: closes its listener and connections, disposes every version. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#listener.close();
    this.abort();
    this.#cpu.close();
    await Promise.all([this.#current, ...this.#retiring].map((v) => v.sandbox.close()));
    await this.#egress.close();
  }

  /** The counters now, for a heartbeat answer. */
  snapshot(): ServerCounters {
    return this.#counters.snapshot();
  }

  /** Starts a heap sample of the current isolate (one at a time; the result goes with a later heartbeat). */
  sampleHeap(): void {
    if (this.#sampling) return;
    this.#sampling = true;
    void this.#current.sandbox.heapUsed().then((bytes) => {
      this.#counters.heapUsed = bytes;
      this.#sampling = false;
    });
  }

  /** Wraps a sandbox as a version of this server. Its context's `invoke` runs each request on whichever version is current when the request starts. */
  #version(sandbox: TenantSandbox, limits: Limits, exposeErrors: boolean): ServerVersion {
    const { httpdid } = this;
    const ctx: ServerContext = {
      refuse: () => this.#cpu.refuse(),
      httpdid,
      limits,
      invoke: async (json, body, requestId) => {
        const version = this.#current;
        const { contention } = this.#hooks;
        version.enter();
        if (this.#counters.started()) {
          contention.busy();
          this.#hooks.running(httpdid);
        }
        contention.started(httpdid);
        const leave = (): void => {
          if (this.#counters.ended()) {
            contention.idle();
            this.#hooks.running(httpdid);
          }
          if (version.leave()) void this.#dispose(version);
        };
        let result: InvokeResult | undefined;
        try {
          result = await version.sandbox.invoke(json, body, requestId);
          return result;
        } finally {
          // A request that goes on after its answer (a streamed body, waitUntil work) leaves when it ends.
          if (result?.ended === undefined) leave();
          else void result.ended.then(leave);
        }
      },
      report: (outcome: Outcome, startedAt: number, failure: RequestFailure | null) => {
        this.#counters.answered(outcome, startedAt);
        if (outcome !== 'ok' && failure !== null) this.#hooks.send({ op: 'outcome', httpdid, outcome, time: Date.now(), ...failure });
      },
      tailed: () => this.#hooks.tail.has(httpdid),
      tail: (event) => this.#hooks.tail.add(httpdid, event),
      exposeErrors: () => this.#current.exposeErrors,
    };
    return new ServerVersion(sandbox, limits, exposeErrors, ctx);
  }

  /** Every version of this server on this worker: the serving one, the prepared one, replaced ones still running. */
  #versions(): ServerVersion[] {
    return [this.#current, ...(this.#pending === null ? [] : [this.#pending]), ...this.#retiring];
  }

  /** Disposes a replaced version whose last request ended. */
  async #dispose(version: ServerVersion): Promise<void> {
    this.#retiring.delete(version);
    this.#closedBusyNs += version.sandbox.busyNs;
    await version.sandbox.close();
  }

  /** The run time of every version of this server this worker has run, ns (monotonic). */
  #busyNs(): bigint {
    let ns = this.#closedBusyNs + this.#current.sandbox.busyNs + (this.#pending?.sandbox.busyNs ?? 0n);
    for (const v of this.#retiring) ns += v.sandbox.busyNs;
    return ns;
  }
}

/** A server's outbound side, counted in its counters. */
function serverEgress(hooks: WorkerHooks, counters: TrafficCounters): ServerEgress {
  return new ServerEgress(hooks.egressNetworks, {
    subrequest: () => counters.subrequest(),
    bytes: (n) => counters.subrequestBytes(n),
    refused: () => counters.egressRefused(),
  });
}

/** The sandbox's callbacks for one server: catastrophic errors and console lines go to the worker. */
function sandboxHooks(httpdid: number, hooks: WorkerHooks): SandboxHooks {
  return {
    onCatastrophicError: (m, disposed) => hooks.onCatastrophic(httpdid, m, disposed),
    onConsole: (lines) => hooks.send({ op: 'console', httpdid, time: Date.now(), lines }),
  };
}
