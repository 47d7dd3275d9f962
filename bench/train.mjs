// Model figures (issue "The model"): training throughput in samples/s on 100k rows x 20 features at
// batch 256 (target >= 66k samples/s, Keras' figure for the same 20-64-32-1 model here),
// `mlops evaluate` over 1M rows (target < 10 s) and peak RSS of `mlops train` on 1M rows
// (target < 1.5 GB; measured with one epoch of each stage, since memory does not grow with epochs).
import { rmSync } from "node:fs";
import { cli, measured, numericProject } from "./lib.mjs";

// Where a training step spends its time, against model.fit and PyTorch in the same run.
await import("./train-step.mjs");

const { dir } = numericProject("mlops-bench-train-");
const run = (args) => {
  const result = measured(dir, args);
  return { ...result, json: JSON.parse(result.stdout) };
};

try {
  cli(["init"], { cwd: dir });
  cli(["seed", "100000", "--seed", "1"], { cwd: dir });
  const small = run(["train", "--epochs", "5", "--pretrain-epochs", "2", "--batch-size", "256", "--json"]);
  const { classifier, pretrain } = small.json.samplesPerSecond;
  console.log(
    `train 100k rows x 20 (batch 256), 20-64-32-1 classifier: ${classifier.toLocaleString("en-US")} samples/s on ${small.json.backend} (target >= 66,000: ${classifier >= 66000 ? "met" : "MISSED"}); autoencoder 20-64-32-64-20: ${pretrain.toLocaleString("en-US")} samples/s; ${small.seconds.toFixed(1)} s wall`,
  );

  cli(["seed", "900000", "--seed", "2"], { cwd: dir });
  const big = run(["train", "--epochs", "1", "--pretrain-epochs", "1", "--json"]);
  console.log(
    `train 1M rows (1+1 epochs):             ${big.seconds.toFixed(1)} s wall, peak RSS ${big.rssMb.toFixed(0)} MB (target < 1536 MB: ${big.rssMb < 1536 ? "met" : "MISSED"})`,
  );

  const evaluation = run(["evaluate", "--model", big.json.version, "--split", "test", "--json"]);
  console.log(
    `evaluate (test split, ${evaluation.json.rows.toLocaleString("en-US")} rows):  ${evaluation.seconds.toFixed(1)} s, peak RSS ${evaluation.rssMb.toFixed(0)} MB`,
  );
  cli(["seed", "1000000", "--seed", "3"], { cwd: dir });
  const fresh = run(["evaluate", "--model", big.json.version, "--json"]);
  console.log(
    `evaluate (fresh, ${fresh.json.rows.toLocaleString("en-US")} rows):       ${fresh.seconds.toFixed(1)} s, peak RSS ${fresh.rssMb.toFixed(0)} MB (target < 10 s: ${fresh.seconds < 10 ? "met" : "MISSED"})`,
  );
} finally {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}
