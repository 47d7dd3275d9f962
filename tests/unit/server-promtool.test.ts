import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/server/metrics.js";

// Prometheus's own checker on the server's exposition (issue 19). Debian's `prometheus` package
// ships promtool; without it the test is skipped and says so.
const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const available = promtool.status === 0;

describe("/metrics exposition", () => {
  it.skipIf(!available)("passes promtool check metrics", async () => {
    const metrics = createMetrics(
      () => undefined,
      () => "v1",
    );
    metrics.countPrediction("v1", true);
    metrics.observeLatency("/predict", 200, 0.002);
    metrics.observeBatchSize(3);
    metrics.reloads.inc({ result: "ok" });
    const text = await metrics.registry.metrics();
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe("");
    expect(check.status).toBe(0);
  });

  it("names no gauge with a counter's _total suffix", async () => {
    if (!available)
      console.warn("promtool is not installed (Debian: apt-get install prometheus): the promtool check is skipped, the suffix check still runs");
    const text = await createMetrics(
      () => undefined,
      () => "v1",
    ).registry.metrics();
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!);
    expect(gauges.filter((name) => name.endsWith("_total"))).toEqual([]);
    expect(gauges).toContain("mlops_nodejs_active_handles");
  });
});
