import type { CommandSpec } from "../spec.js";

export const upCommand: CommandSpec = {
  name: "up",
  description: "zero to a served model: init, seed (when there is no data), train, evaluate, promote, serve",
  options: [
    { flags: "--rows <n>", description: "synthetic rows to seed when the project has no data", default: "10000" },
    { flags: "--host <host>", description: "address to serve on (default from config)" },
    { flags: "--port <port>", description: "port to serve on (default from config)" },
    { flags: "--no-serve", description: "stop after promoting instead of serving" },
  ],
  run: async () => (await import("../up.js")).runUp,
};
