// What `mlops evaluate --data FILE` pays to count the file's rows the version trained on (each
// row's identity hashed as collect does, one indexed lookup per chunk): wall time on a file of
// ROWS rows (default 200,000) beside REFERENCE_CLI, a build without the count (say the commit
// before it), runs alternating, the median of ROUNDS (default 3). Half the file's rows are ones
// the project stored (so about 85% of those are training rows), half are new.
// Run: `npm run build && REFERENCE_CLI=/path/to/old/dist/bin/mlops.js node bench/evaluate-file.mjs`.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI } from "./lib.mjs";

const ROWS = Number(process.env.ROWS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const REFERENCE = process.env.REFERENCE_CLI;
if (!REFERENCE) throw new Error("Set REFERENCE_CLI to a build without the count (its dist/bin/mlops.js).");

const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-evaluate-file-"));
chmodSync(dir, 0o755); // the embedded server's user (when root) must enter it
function run(cli, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", CI: "true", DATABASE_URL: "" },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0 && result.status !== 3) throw new Error(`mlops ${args.join(" ")} failed: ${result.stderr.slice(-2000)}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, json: JSON.parse(result.stdout) };
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

try {
  run(CLI, ["init", "--json"]);
  run(CLI, ["seed", String(ROWS / 2), "--seed", "1", "--json"]);
  const { version } = run(CLI, ["train", "--epochs", "1", "--pretrain-epochs", "1", "--json"]).json;
  // The stored rows again (same seed, same rows), then as many new ones, in one file.
  const seen = path.join(dir, "seen.csv");
  const fresh = path.join(dir, "fresh.csv");
  run(CLI, ["seed", String(ROWS / 2), "--seed", "1", "--out", seen, "--json"]);
  run(CLI, ["seed", String(ROWS / 2), "--seed", "2", "--out", fresh, "--json"]);
  const file = path.join(dir, "eval.csv");
  const freshLines = readFileSync(fresh, "utf8").trimEnd().split("\n").slice(1);
  writeFileSync(file, `${readFileSync(seen, "utf8").trimEnd()}\n${freshLines.join("\n")}\n`);

  const args = ["evaluate", "--model", version, "--data", file, "--json"];
  const times = { reference: [], now: [] };
  let counted = null;
  for (let round = 0; round < ROUNDS; round += 1) {
    times.reference.push(run(REFERENCE, args).seconds);
    const now = run(CLI, args);
    times.now.push(now.seconds);
    counted = now.json;
  }
  const [reference, now] = [median(times.reference), median(times.now)];
  console.log(
    `evaluate --data, ${counted.rows.toLocaleString("en-US")} rows (${counted.seenInTraining.toLocaleString("en-US")} seen in training): ` +
      `${now.toFixed(2)} s against ${reference.toFixed(2)} s without the count (${(now / reference).toFixed(2)}x, median of ${ROUNDS})`,
  );
} finally {
  spawnSync(process.execPath, [CLI, "db", "stop"], { cwd: dir, env: { ...process.env, DATABASE_URL: "" } });
  rmSync(dir, { recursive: true, force: true });
}
