import type { CommandSpec } from "../spec.js";

export const dataCommand: CommandSpec = {
  name: "data",
  description: "show stored examples by split and label, quarantine and recent batches",
  options: [{ flags: "--limit <n>", description: "how many recent batches to list", default: "20" }],
  run: async () => (await import("../data.js")).runData,
  subcommands: [
    {
      name: "quarantine",
      description: "show quarantined rows with their reasons",
      options: [
        { flags: "--batch <id>", description: "only this batch" },
        { flags: "--limit <n>", description: "how many rows", default: "20" },
      ],
      run: async () => (await import("../data.js")).runQuarantine,
    },
  ],
};
