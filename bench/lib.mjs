// Shared bits of the bench scripts: run the built CLI, time it, print figures.
import { spawnSync } from "node:child_process";
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
  console.log(`${name.padEnd(34)} median ${f(stats.median)}  p90 ${f(stats.p90)}  min ${f(stats.min)}  max ${f(stats.max)}  n=${stats.runs}${verdict}`);
}
