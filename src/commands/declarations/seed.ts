import type { CommandSpec } from "../spec.js";

export const seedCommand: CommandSpec = {
  name: "seed",
  description: "write N synthetic rows matching the project's schema into the database as one batch",
  arguments: [{ name: "[N]", description: "how many labelled synthetic rows", default: "1000" }],
  options: [
    { flags: "--seed <n>", description: "random seed (same seed, same rows; default: random, printed)" },
    { flags: "--drift <x>", description: "0..1: shift the distributions and the labelling rule so a model degrades", default: "0" },
    { flags: "--unlabeled-fraction <f>", description: "0..1: share of rows left without a label", default: "0" },
    { flags: "--out <file>", description: "write a CSV file instead of the database" },
  ],
  run: async () => (await import("../seed.js")).runSeed,
};
