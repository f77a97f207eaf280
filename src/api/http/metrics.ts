// GET /metrics: a prom-client registry of the control process whose values are computed at scrape time from the servers' counters.

import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';
import { LATENCY_BOUNDS_MS } from '../../core/histogram.js';
import { OUTCOMES } from '../../core/outcome.js';
import type { WorkerInfo } from '../../host/worker/protocol.js';
import type { ServerMetrics } from '../control/server-manager.js';

/** The labels every per-server metric carries. To add one, add its name here and its value in {@link serverLabels}. */
export const SERVER_LABEL_NAMES = ['httpdid', 'tenant'] as const;

/** One of {@link SERVER_LABEL_NAMES}. */
export type ServerLabel = (typeof SERVER_LABEL_NAMES)[number];

/** The label values of one server. */
export function serverLabels(s: ServerMetrics): Record<ServerLabel, string> {
  return { httpdid: String(s.httpdid), tenant: s.tenant };
}

/** Where the values come from (the server manager). */
export interface MetricsSource {
  /** Raw counters of every server. */
  metrics(): ServerMetrics[];
  /** Reads the workers' counters now (before a scrape is answered). */
  refreshStats(): Promise<void>;
  /** Sandbox workers up now. */
  workersUp(): number;
  /** Pid and runtime of each sandbox worker up now, as each reported it. */
  workerRuntimes(): WorkerInfo[];
}

/** The registry and how to answer a scrape. */
export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text exposition format's content type. */
  readonly contentType: string;
  /** The exposition text, computed now. */
  text(): Promise<string>;
}

const DURATION = 'isohttpd_request_duration_seconds';
const seconds = (ms: number): number => Number((ms / 1000).toPrecision(3));

type DurationLabel = ServerLabel | 'le';
type Out = MetricObjectWithValues<MetricValueWithName<DurationLabel>>;
const DURATION_HELP = 'Time from a request head received to its response written, in seconds, per server (all replicas, all worker generations).';

/** The latency histogram, exported from the buckets the workers already counted (prom-client's own histogram only observes values one by one). */
class RequestDuration extends Histogram<DurationLabel> {
  readonly #source: MetricsSource;

  constructor(registry: Registry, source: MetricsSource) {
    super({
      name: DURATION,
      help: DURATION_HELP,
      labelNames: [...SERVER_LABEL_NAMES],
      buckets: LATENCY_BOUNDS_MS.map(seconds),
      registers: [registry],
    });
    this.#source = source;
  }

  override async get(): Promise<Out> {
    const values: Array<MetricValueWithName<DurationLabel>> = [];
    for (const s of this.#source.metrics()) {
      const labels = serverLabels(s);
      let cumulative = 0;
      s.stats.latency.counts.forEach((count, i) => {
        cumulative += count;
        const bound = LATENCY_BOUNDS_MS[i];
        values.push({ metricName: `${DURATION}_bucket`, labels: { ...labels, le: bound === undefined ? '+Inf' : String(seconds(bound)) }, value: cumulative });
      });
      values.push({ metricName: `${DURATION}_sum`, labels, value: s.stats.latency.sumMs / 1000 });
      values.push({ metricName: `${DURATION}_count`, labels, value: cumulative });
    }
    // prom-client declares `type` as an enum it does not export at run time; its value is the string 'histogram'.
    return { name: DURATION, help: DURATION_HELP, type: 'histogram' as unknown as Out['type'], values, aggregator: 'sum', collect: () => undefined };
  }

  /** What the registry calls for the text format (prom-client's own would read observed values). */
  getForPromString(): Promise<Out> {
    return this.get();
  }
}

/** Builds the registry; every value is read from `source` when `/metrics` is scraped. */
export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  const labelNames = [...SERVER_LABEL_NAMES];
  new Counter({
    name: 'isohttpd_requests_total',
    help: 'Requests that reached the handler, per server and outcome.',
    labelNames: [...labelNames, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source.metrics()) for (const o of OUTCOMES) this.inc({ ...serverLabels(s), outcome: o }, s.stats.outcomes[o]);
    },
  });
  new RequestDuration(registry, source);
  const perServer = (name: string, help: string, value: (s: ServerMetrics) => number, type: 'counter' | 'gauge'): void => {
    const collect = function (this: Counter<ServerLabel> | Gauge<ServerLabel>): void {
      this.reset();
      for (const s of source.metrics()) {
        if (this instanceof Counter) this.inc(serverLabels(s), value(s));
        else this.set(serverLabels(s), value(s));
      }
    };
    if (type === 'counter') new Counter({ name, help, labelNames, registers: [registry], collect });
    else new Gauge({ name, help, labelNames, registers: [registry], collect });
  };
  perServer('isohttpd_bytes_received_total', 'Bytes read from the client sockets of a server.', (s) => s.stats.bytesIn, 'counter');
  perServer('isohttpd_bytes_sent_total', 'Bytes written to the client sockets of a server.', (s) => s.stats.bytesOut, 'counter');
  perServer(
    'isohttpd_isolate_heap_bytes',
    'Bytes used by the isolates of a server (V8 used heap plus external memory), sampled on the heartbeat, summed over replicas.',
    (s) => s.stats.heapUsed,
    'gauge',
  );
  perServer('isohttpd_worker_restarts_total', 'Times a sandbox worker hosting a server was replaced.', (s) => s.stats.workerRestarts, 'counter');
  perServer('isohttpd_subrequests_total', "Outbound fetches a server's handler started.", (s) => s.stats.subrequests, 'counter');
  perServer('isohttpd_subrequest_bytes_total', "Body bytes a server's outbound fetches sent and received.", (s) => s.stats.subrequestBytes, 'counter');
  perServer(
    'isohttpd_egress_refusals_total',
    'Outbound fetches of a server refused by its egress policy (allow list, denied address ranges) or a per-request limit.',
    (s) => s.stats.egressRefusals,
    'counter',
  );
  new Gauge({
    name: 'isohttpd_workers_up',
    help: 'Sandbox worker processes up (pool and quarantine; the warm spare not included).',
    registers: [registry],
    collect() {
      this.set(source.workersUp());
    },
  });
  new Gauge({
    name: 'isohttpd_process_info',
    help: 'Always 1: the Node.js and V8 versions of the control process and of each sandbox worker (as the worker reported it).',
    labelNames: ['role', 'pid', 'node', 'v8'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ role: 'control', pid: String(process.pid), node: process.versions.node, v8: process.versions.v8 }, 1);
      for (const w of source.workerRuntimes()) this.set({ role: 'worker', pid: String(w.pid), node: w.node, v8: w.v8 }, 1);
    },
  });
  new Gauge({
    name: 'isohttpd_servers',
    help: 'Tenant servers, per state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const servers = source.metrics();
      for (const state of ['running', 'failed'] as const) this.set({ state }, servers.filter((s) => s.state === state).length);
    },
  });
  return {
    registry,
    contentType: registry.contentType,
    text: async () => {
      await source.refreshStats();
      return registry.metrics();
    },
  };
}
