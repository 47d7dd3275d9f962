// What boosted trees (model.boostedTrees, on by default) add to a small-data training: `mlops train`
// with its defaults against `mlops train --no-trees` on the same rows, alternating, wall time of
// each (median of the rounds) and their ratio. Small data: 4,000 rows x 20 numeric features,
// below model.smallDataRows, so both cross-validate (5 folds) and the default also fits six tree
// models. Usage: node bench/train-trees.mjs [rounds, default 2].
import { rmSync } from "node:fs";
import { cli, measured, numericProject, summarize } from "./lib.mjs";

const rounds = Number(process.argv[2] ?? 2);
const { dir } = numericProject("mlops-bench-trees-");

try {
  cli(["init"], { cwd: dir });
  cli(["seed", "4000", "--seed", "5"], { cwd: dir });
  const times = { trees: [], plain: [] };
  let blend = null;
  for (let round = 0; round < rounds; round += 1) {
    const withTrees = measured(dir, ["train", "--json"]);
    times.trees.push(withTrees.seconds);
    blend = JSON.parse(withTrees.stdout).boostedTrees?.blend ?? null;
    times.plain.push(measured(dir, ["train", "--no-trees", "--json"]).seconds);
  }
  const trees = summarize(times.trees).median;
  const plain = summarize(times.plain).median;
  console.log(
    `train 4,000 rows x 20, 5-fold cross-validation: ${trees.toFixed(1)} s with boosted trees (the default; blend weight ${blend?.weight ?? "none"}), ${plain.toFixed(1)} s with --no-trees: ${(trees / plain).toFixed(2)}x (median of ${rounds} alternating rounds)`,
  );
} finally {
  cli(["db", "stop"], { cwd: dir, allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
}
