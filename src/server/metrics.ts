import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { PredictionLogWriter } from "./prediction-log.js";

/** The server's Prometheus metrics, on a registry of its own (tests build many apps). */
export function createMetrics(log: () => PredictionLogWriter | undefined, modelVersion: () => string | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mlops_" });
  const predictions = new Counter({
    name: "mlops_predictions_total",
    help: "Predictions answered, by model version and predicted label.",
    labelNames: ["version", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "mlops_request_duration_seconds",
    help: "Request handling time by route and status code.",
    labelNames: ["route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "mlops_predict_batch_size",
    help: "Instances per /predict request.",
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [registry],
  });
  const reloads = new Counter({ name: "mlops_model_reloads_total", help: "Model reloads by result.", labelNames: ["result"] as const, registers: [registry] });
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
  const countPrediction = cachedChildren(predictions);
  const observeLatency = cachedChildren(latency);
  return {
    registry,
    countPrediction: (version: string, positive: boolean) => countPrediction(version, positive ? "positive" : "negative").inc(),
    observeLatency: (route: string, status: number, seconds: number) => observeLatency(route, String(status)).observe(seconds),
    batchSize,
    reloads,
  };
}

/** A metric's labelled children, kept per label values: no label hashing on every request. */
function cachedChildren<Child>(metric: { labels(...values: string[]): Child }): (...values: string[]) => Child {
  const children = new Map<string, Child>();
  return (...values) => {
    const key = values.join("\u0000");
    let child = children.get(key);
    if (child === undefined) children.set(key, (child = metric.labels(...values)));
    return child;
  };
}

export type ServerMetrics = ReturnType<typeof createMetrics>;
