// Shared bits of the bench scripts: run the built CLI, time it, print figures.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../dist/bin/mlops.js", import.meta.url));

export function cli(args, options = {}) {
  const env = { ...process.env, NO_COLOR: "1", CI: "true", ...options.env };
  if (!options.keepDatabaseUrl) delete env.DATABASE_URL;
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`mlops ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return { ms, ...result };
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { runs: sorted.length, median: pick(0.5), p90: pick(0.9), min: sorted[0], max: sorted.at(-1) };
}

export function report(name, stats, target) {
  const f = (v) => `${v.toFixed(0)} ms`;
  const verdict = target === undefined ? "" : stats.median <= target ? `  (target < ${target} ms: met)` : `  (target < ${target} ms: MISSED)`;
  console.log(
    `${name.padEnd(34)} median ${f(stats.median)}  p90 ${f(stats.p90)}  min ${f(stats.min)}  max ${f(stats.max)}  n=${stats.runs}${verdict}`,
  );
}

/** A temp project of 20 numeric features and a 0/1 label: the shape the ingest and training targets name. */
export function numericProject(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755); // mkdtemp makes 0700 folders, which the server user (when root) cannot enter
  const features = Array.from({ length: 20 }, (_, i) => ({ name: `x${String(i + 1).padStart(2, "0")}`, type: "numeric", nullable: false }));
  writeFileSync(
    path.join(dir, "mlops.config.json"),
    JSON.stringify({ version: 1, features, label: { name: "label", positive: 1, negative: 0 } }, null, 2),
  );
  return { dir, features };
}

/** Wall time and peak RSS of one CLI run, measured by GNU time; exit 3 (a gate) is a result, not a failure. */
export function measured(dir, args) {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, CLI, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", CI: "true", DATABASE_URL: "" },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0 && result.status !== 3) throw new Error(`mlops ${args.join(" ")} failed: ${result.stderr}`);
  const [seconds, kb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { seconds, rssMb: kb / 1024, stdout: result.stdout };
}
