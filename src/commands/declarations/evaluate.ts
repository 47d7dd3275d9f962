import type { CommandSpec } from "../spec.js";

export const evaluateCommand: CommandSpec = {
  name: "evaluate",
  description: "metrics of a version on fresh labelled data, and the gate (F1 threshold, no worse than the active version)",
  options: [
    { flags: "--model <version>", description: "a version name, or active, candidate, latest (default: active, else latest)" },
    { flags: "--data <file>", description: "evaluate on an external CSV/JSONL file in the project's schema" },
    { flags: "--split <split>", description: "test: evaluate on the held-out test split" },
    {
      flags: "--retrain-if-below",
      description:
        "when the active version fails the gate, train a candidate and evaluate it on the held-out part of the same rows (as `mlops run validation-deployment`, without promoting)",
    },
  ],
  run: async () => (await import("../evaluate.js")).runEvaluate,
};
