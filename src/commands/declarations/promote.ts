import type { CommandSpec } from "../spec.js";

export const promoteCommand: CommandSpec = {
  name: "promote",
  description: "make a version active when its latest evaluation passed the gate; running servers reload",
  arguments: [{ name: "[version]", description: "the version to make active (default: the newest candidate)" }],
  options: [
    { flags: "--force", description: "promote despite the gate (needs --reason)" },
    { flags: "--reason <text>", description: "why (recorded in the history)" },
    { flags: "--rollback", description: "return to the previously active version" },
    { flags: "--history", description: "show the append-only promotion history" },
    { flags: "--by <name>", description: "who promotes (default: MLOPS_ACTOR, else user@host)" },
  ],
  run: async () => (await import("../promote.js")).runPromote,
};
