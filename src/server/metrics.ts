import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import type { PredictionLogWriter } from "./prediction-log.js";

/** The server's Prometheus metrics, on a registry of its own (tests build many apps). */
export function createMetrics(log: () => PredictionLogWriter | undefined, modelVersion: () => string | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mlops_" });
  // prom-client's totals of active handles, requests and resources are gauges named like
  // counters (`_total`), which `promtool check metrics` refuses; the same numbers by type stay
  // as mlops_nodejs_active_handles, _requests and _resources (sum them for the total).
  for (const name of ["handles", "requests", "resources"]) registry.removeSingleMetric(`mlops_nodejs_active_${name}_total`);
  const predictions = new RequestCounter(registry, {
    name: "mlops_predictions_total",
    help: "Predictions answered, by model version and predicted label.",
    labelNames: ["version", "outcome"],
  });
  const latency = new RequestHistogram(registry, {
    name: "mlops_request_duration_seconds",
    help: "Request handling time by route and status code.",
    labelNames: ["route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  const batchSize = new RequestHistogram(registry, {
    name: "mlops_predict_batch_size",
    help: "Instances per /predict request.",
    labelNames: [],
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
  });
  const batchSizes = batchSize.series();
  const reloads = new Counter({
    name: "mlops_model_reloads_total",
    help: "Model reloads by result.",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "mlops_prediction_log_queue",
    help: "Predictions buffered in memory, not yet written to the database.",
    registers: [registry],
    collect() {
      this.set(log()?.snapshot().buffered ?? 0);
    },
  });
  new Gauge({
    name: "mlops_prediction_log_spilled",
    help: "Predictions written to the spill file while the database was down (replayed when it returns).",
    registers: [registry],
    collect() {
      this.set(log()?.snapshot().spilled ?? 0);
    },
  });
  new Counter({
    name: "mlops_prediction_log_rejected_total",
    help: "Predictions PostgreSQL refused on their own (found by splitting the refused batch), set aside in a .rejected file.",
    registers: [registry],
    collect() {
      this.reset();
      const rejected = log()?.snapshot().rejected ?? 0;
      if (rejected > 0) this.inc(rejected);
    },
  });
  new Gauge({
    name: "mlops_prediction_log_database_up",
    help: "1 when the last write to the database succeeded.",
    registers: [registry],
    collect() {
      this.set(log()?.snapshot().databaseUp === false ? 0 : 1);
    },
  });
  new Gauge({
    name: "mlops_model_info",
    help: "The model version being served (value 1).",
    labelNames: ["version"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const version = modelVersion();
      if (version) this.set({ version }, 1);
    },
  });
  return {
    registry,
    countPrediction: (version: string, positive: boolean) => {
      predictions.series(version, positive ? "positive" : "negative").count += 1;
    },
    observeLatency: (route: string, status: number, seconds: number) => latency.series(route, String(status)).observe(seconds),
    observeBatchSize: (instances: number) => batchSizes.observe(instances),
    reloads,
  };
}

interface RequestMetricConfig {
  name: string;
  help: string;
  /** At most two: series are found through a map per label, with no key built per request. */
  labelNames: readonly string[];
}

interface Series<S> {
  labels: Record<string, string>;
  series: S;
}

/**
 * A metric counted on every request, kept in plain numbers per label combination and turned
 * into prom-client's exposition only when /metrics is scraped. prom-client's own inc and
 * observe validate and hash the labels (and observe allocates a closure) on every call: for
 * /predict's counter and two histograms that was about 22,000 instructions a request, a
 * fifteenth of the server's main thread (callgrind). Registered through the registry's
 * metric interface (`name`, `help`, `type`, `aggregator`, `get()`), which the registry
 * formats like its own; the cast is needed because prom-client types that as its classes.
 */
abstract class RequestMetric<S> {
  abstract readonly type: "counter" | "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  /** By the first label's value, then the second's (unlabelled metrics use ""). */
  readonly #series = new Map<string, Map<string, Series<S>>>();

  constructor(registry: Registry, config: RequestMetricConfig) {
    if (config.labelNames.length > 2) throw new Error(`${config.name}: at most two labels`);
    this.name = config.name;
    this.help = config.help;
    this.#labelNames = config.labelNames;
    registry.registerMetric(this as unknown as Metric);
  }

  /** The numbers for these label values (in labelNames order), made on first use. */
  series(first = "", second = ""): S {
    let bySecond = this.#series.get(first);
    if (bySecond === undefined) this.#series.set(first, (bySecond = new Map()));
    let entry = bySecond.get(second);
    if (entry === undefined) {
      const labels = Object.fromEntries(this.#labelNames.map((name, i) => [name, i === 0 ? first : second]));
      bySecond.set(second, (entry = { labels, series: this.create() }));
    }
    return entry.series;
  }

  async get() {
    const values = [...this.#series.values()]
      .flatMap((bySecond) => [...bySecond.values()])
      .flatMap(({ labels, series }) => this.export(labels, series));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected abstract create(): S;
  protected abstract export(
    labels: Record<string, string>,
    series: S,
  ): Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
}

class RequestCounter extends RequestMetric<{ count: number }> {
  readonly type = "counter";

  protected create() {
    return { count: 0 };
  }

  protected export(labels: Record<string, string>, series: { count: number }) {
    return [{ labels, value: series.count }];
  }
}

/** Bucket counts, sum and count of one label combination; `observe` is a search and three writes. */
class Buckets {
  /** Per upper bound, then one for +Inf: not cumulative until exported. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i += 1;
    this.counts[i] = this.counts[i]! + 1;
    this.sum += value;
    this.count += 1;
  }
}

class RequestHistogram extends RequestMetric<Buckets> {
  readonly type = "histogram";
  readonly #bounds: readonly number[];

  constructor(registry: Registry, config: RequestMetricConfig & { buckets: number[] }) {
    super(registry, config);
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
  }

  protected create() {
    return new Buckets(this.#bounds);
  }

  protected export(labels: Record<string, string>, series: Buckets) {
    let cumulative = 0;
    const bucket = `${this.name}_bucket`;
    return [
      ...this.#bounds.map((le, i) => ({ metricName: bucket, labels: { le, ...labels }, value: (cumulative += series.counts[i]!) })),
      { metricName: bucket, labels: { le: "+Inf", ...labels }, value: series.count },
      { metricName: `${this.name}_sum`, labels, value: series.sum },
      { metricName: `${this.name}_count`, labels, value: series.count },
    ];
  }
}

export type ServerMetrics = ReturnType<typeof createMetrics>;
