import type { CommandSpec } from "../spec.js";

export const modelsCommand: CommandSpec = {
  name: "models",
  description: "list model versions: status, created, training data, F1, active marker",
  run: async () => (await import("../models.js")).runModels,
  subcommands: [
    {
      name: "show",
      description: "print a version's manifest",
      arguments: [{ name: "<version>", description: "a version name, or active, candidate, latest" }],
      run: async () => (await import("../models.js")).runModelsShow,
    },
  ],
};
