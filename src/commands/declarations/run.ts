import type { CommandSpec } from "../spec.js";

export const runCommand: CommandSpec = {
  name: "run",
  description: "run a pipeline now: every run and stage recorded, transient failures retried, one run at a time",
  arguments: [{ name: "<pipeline>", description: "data-collection, training, validation-deployment, or a pipeline from the config" }],
  run: async () => (await import("../run.js")).runRun,
};

export const runsCommand: CommandSpec = {
  name: "runs",
  description: "list pipeline runs with their stages",
  options: [
    { flags: "--pipeline <name>", description: "only this pipeline" },
    { flags: "--limit <n>", description: "how many runs", default: "20" },
  ],
  run: async () => (await import("../run.js")).runRuns,
  subcommands: [
    {
      name: "show",
      description: "one run in full: every stage attempt with its outputs, error and timing",
      arguments: [{ name: "<id>", description: "the run's number (as listed by mlops runs)" }],
      run: async () => (await import("../run.js")).runRunsShow,
    },
  ],
};
