import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/server/metrics.js";

/** One metric's block (HELP, TYPE and sample lines) of a registry's exposition. */
async function block(registry: Registry, name: string): Promise<string> {
  const text = await registry.metrics();
  const found = text.split("\n\n").find((part) => part.startsWith(`# HELP ${name} `));
  if (!found) throw new Error(`${name} is not in:\n${text}`);
  return found.trim();
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

describe("server metrics", () => {
  it("expose what prom-client's own Counter and Histogram expose for the same observations", async () => {
    const metrics = createMetrics(
      () => undefined,
      () => "v1",
    );
    const reference = new Registry();
    const latency = new Histogram({
      name: "mlops_request_duration_seconds",
      help: "Request handling time by route and status code.",
      labelNames: ["route", "status"],
      buckets: LATENCY_BUCKETS,
      registers: [reference],
    });
    const batchSize = new Histogram({
      name: "mlops_predict_batch_size",
      help: "Instances per /predict request.",
      buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
      registers: [reference],
    });
    const predictions = new Counter({
      name: "mlops_predictions_total",
      help: "Predictions answered, by model version and predicted label.",
      labelNames: ["version", "outcome"],
      registers: [reference],
    });

    // Values on bucket bounds, between them and past the last one, on several label sets.
    const seconds = [0.0001, 0.0005, 0.0007, 0.001, 0.003, 0.2, 1, 1.5, 0.00049];
    for (const [i, value] of seconds.entries()) {
      const [route, status] = i % 3 === 0 ? ["/health", 200] : i % 3 === 1 ? ["/predict", 200] : ["/predict", 400];
      metrics.observeLatency(route!, status as number, value);
      latency.observe({ route, status: String(status) }, value);
    }
    for (const instances of [1, 1, 3, 64, 5000, 6000]) {
      metrics.observeBatchSize(instances);
      batchSize.observe(instances);
    }
    for (const [version, positive] of [
      ["v1", true],
      ["v1", false],
      ["v2", true],
      ["v1", true],
    ] as const) {
      metrics.countPrediction(version, positive);
      predictions.inc({ version, outcome: positive ? "positive" : "negative" });
    }

    for (const name of ["mlops_request_duration_seconds", "mlops_predict_batch_size", "mlops_predictions_total"]) {
      expect(await block(metrics.registry, name)).toBe(await block(reference, name));
    }
    expect(await block(metrics.registry, "mlops_predictions_total")).toContain('mlops_predictions_total{version="v1",outcome="positive"} 2');
  });

  it("expose HELP and TYPE but no samples before the first observation", async () => {
    const { registry } = createMetrics(
      () => undefined,
      () => undefined,
    );
    expect(await block(registry, "mlops_request_duration_seconds")).toBe(
      "# HELP mlops_request_duration_seconds Request handling time by route and status code.\n# TYPE mlops_request_duration_seconds histogram",
    );
  });
});
