// Cluster mode's parts of one node, as the server manager holds them: what this node serves (LocalServing), the API's lifecycle through the shared database (ClusterLifecycle), and, once joined, its membership (ClusterNode).

import { IsoError } from '../../core/errors.js';
import { ClusterLifecycle, type ClusterLifecycleDeps } from './cluster-lifecycle.js';
import { ClusterNode, type ClusterTimings } from './cluster-node.js';
import type { ClusterStore, NodeRow } from './cluster-store.js';
import { LocalServing, type LocalServingDeps } from './local-serving.js';

/** What cluster mode needs (config `nodeName`, `nodeAddress`, `cluster`). */
export interface ClusterOptions {
  readonly store: ClusterStore;
  /** The registry's URL: the leader lock and the change feed have connections of their own. */
  readonly url: string;
  readonly nodeName: string;
  /** This node's own address: placed servers bind their ports there. */
  readonly nodeAddress: string;
  readonly timings: ClusterTimings;
}

/** What the parts share with the server manager: what local serving needs (but the node's address, from the options) and what the lifecycle checks against. */
export type ClusterModeDeps = Omit<LocalServingDeps, 'nodeAddress'> & Pick<ClusterLifecycleDeps, 'policy' | 'quotas' | 'maxSourceBytes'>;

/** One node's cluster mode. */
export class ClusterMode {
  readonly #options: ClusterOptions;
  readonly #deps: ClusterModeDeps;
  readonly #local: LocalServing;
  /** The API's operations, answered from the shared database. */
  readonly lifecycle: ClusterLifecycle;
  #node: ClusterNode | null = null;

  constructor(options: ClusterOptions, deps: ClusterModeDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#local = new LocalServing({ ...deps, nodeAddress: options.nodeAddress });
    this.lifecycle = new ClusterLifecycle({ ...deps, store: options.store, leaseMs: options.timings.leaseMs, readyWaitMs: options.timings.readyWaitMs });
  }

  /** Joins the cluster, the API answering at `apiUrl`. @throws IsoError 503 when the database cannot be reached. */
  async join(apiUrl: string): Promise<void> {
    const { store, timings, url, nodeName, nodeAddress } = this.#options;
    this.#node = new ClusterNode({ store, registry: this.#deps.registry, local: this.#local, log: this.#deps.log, timings, url, me: { name: nodeName, address: nodeAddress, apiUrl } });
    await this.#node.join();
  }

  /** This node's name, whether it leads, and every node. @throws IsoError 404 before joining, 503. */
  async nodes(): Promise<{ node: string; leader: boolean; nodes: NodeRow[] }> {
    const node = this.#node;
    if (node === null) throw new IsoError('ISO_ERR_API_ROUTE_NOT_FOUND', 'this node has not joined its cluster yet');
    return { node: node.name, leader: node.leading, nodes: await node.nodes() };
  }

  /** Leaves the cluster, waiting at most `handoverMs` for its servers to be served elsewhere (never rejects; nothing before joining). */
  async leave(handoverMs = 0): Promise<void> {
    await this.#node?.leave(Math.min(handoverMs, this.#options.timings.readyWaitMs));
  }
}
