// Training beyond memory (issue 16): peak RSS and wall time of `mlops train` and `mlops evaluate`
// on ROWS rows of 20 numeric features (default 5,000,000; target: train under 1 GB), against a
// reference run on the same data in the same run, as ratios:
//   REFERENCE_CLI=/path/to/dist/bin/mlops.js  a previous build (say main), run the same way;
//   without it, this build with model.chunkRows >= ROWS (all raw values in one chunk in memory).
// Both train with the same seed, epochs and data, so equal weights.bin hashes show the streamed
// run learned exactly what the reference did.
// DATABASE_URL: a fresh database to use (rows already there are reused when there are ROWS of
// them); unset, the project's embedded PostgreSQL. EPOCHS (default 1) and PRETRAIN_EPOCHS
// (default 1): memory does not grow with epochs; time per sample is the figure compared.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, numericProject } from "./lib.mjs";

const ROWS = Number(process.env.ROWS ?? 5_000_000);
const EPOCHS = process.env.EPOCHS ?? "1";
const PRETRAIN_EPOCHS = process.env.PRETRAIN_EPOCHS ?? "1";
const REFERENCE = process.env.REFERENCE_CLI;
const SEED_BATCH = 1_000_000;

const { dir } = numericProject("mlops-bench-train-memory-");
const configFile = path.join(dir, "mlops.config.json");
const baseConfig = JSON.parse(readFileSync(configFile, "utf8"));
const setChunkRows = (chunkRows) =>
  writeFileSync(configFile, JSON.stringify(chunkRows === undefined ? baseConfig : { ...baseConfig, model: { chunkRows } }, null, 2));

/** One CLI run under GNU time: wall seconds, peak RSS and the JSON document. */
function run(cli, args) {
  const env = { ...process.env, NO_COLOR: "1", CI: "true" };
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, cli, ...args], { cwd: dir, env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (result.status !== 0 && result.status !== 3) throw new Error(`mlops ${args.join(" ")} failed: ${result.stderr.slice(-2000)}`);
  const [seconds, kb] = result.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { seconds, rssMb: kb / 1024, json: JSON.parse(result.stdout) };
}

const weightsHash = (version) =>
  createHash("sha256")
    .update(readFileSync(path.join(dir, "models", version, "weights.bin")))
    .digest("hex")
    .slice(0, 12);
const mb = (x) => `${x.toFixed(0)} MB`;
const ratio = (a, b) => (a / b).toFixed(2);

try {
  run(CLI, ["init", "--json"]);
  const stored = run(CLI, ["data", "--json"]).json;
  const have = stored.examples?.total ?? stored.rows ?? 0;
  if (have < ROWS) {
    const started = Date.now();
    for (let seeded = have, seed = 1; seeded < ROWS; seeded += SEED_BATCH, seed += 1) {
      run(CLI, ["seed", String(Math.min(SEED_BATCH, ROWS - seeded)), "--seed", String(1000 + seed), "--json"]);
    }
    console.log(`seeded ${(ROWS - have).toLocaleString("en-US")} rows in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const trainArgs = ["train", "--epochs", EPOCHS, "--pretrain-epochs", PRETRAIN_EPOCHS, "--max-rows", String(ROWS), "--json"];

  // The reference first, then the streamed run, then the reference's evaluation beside ours.
  if (!REFERENCE) setChunkRows(10_000_000);
  const reference = run(REFERENCE ?? CLI, trainArgs);
  setChunkRows(undefined);
  const streamed = run(CLI, trainArgs);
  const evaluateArgs = (version) => ["evaluate", "--model", version, "--split", "test", "--json"];
  if (!REFERENCE) setChunkRows(10_000_000);
  const referenceEvaluation = run(REFERENCE ?? CLI, evaluateArgs(reference.json.version));
  setChunkRows(undefined);
  const evaluation = run(CLI, evaluateArgs(streamed.json.version));

  const label = REFERENCE ? `reference ${REFERENCE}` : "reference: this build, one in-memory chunk";
  const rows = reference.json.rows;
  console.log(`train ${ROWS.toLocaleString("en-US")} rows x 20 (train ${rows.train}, validation ${rows.validation}, test ${rows.test}; ${label})`);
  const line = (name, r) =>
    `  ${name.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s wall, peak RSS ${mb(r.rssMb).padStart(8)}, classifier ${r.json.samplesPerSecond.classifier} samples/s, autoencoder ${r.json.samplesPerSecond.pretrain} samples/s, weights ${weightsHash(r.json.version)}`;
  console.log(line("reference", reference));
  console.log(line("streamed", streamed));
  console.log(
    `  streamed / reference: wall ${ratio(streamed.seconds, reference.seconds)}, peak RSS ${ratio(streamed.rssMb, reference.rssMb)}, classifier samples/s ${ratio(streamed.json.samplesPerSecond.classifier, reference.json.samplesPerSecond.classifier)}; same weights: ${weightsHash(streamed.json.version) === weightsHash(reference.json.version)}; train RSS target < 1024 MB: ${streamed.rssMb < 1024 ? "met" : "MISSED"}`,
  );
  console.log(
    `evaluate test split (${evaluation.json.rows.toLocaleString("en-US")} rows): reference ${referenceEvaluation.seconds.toFixed(1)} s, ${mb(referenceEvaluation.rssMb)}; streamed ${evaluation.seconds.toFixed(1)} s, ${mb(evaluation.rssMb)} (wall ${ratio(evaluation.seconds, referenceEvaluation.seconds)}, RSS ${ratio(evaluation.rssMb, referenceEvaluation.rssMb)}); same F1: ${evaluation.json.metrics.f1 === referenceEvaluation.json.metrics.f1}`,
  );
} finally {
  if (!process.env.DATABASE_URL) spawnSync(process.execPath, [CLI, "db", "stop"], { cwd: dir, env: { ...process.env, CI: "true" } });
  rmSync(dir, { recursive: true, force: true });
}
