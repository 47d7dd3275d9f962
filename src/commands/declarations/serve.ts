import type { CommandSpec } from "../spec.js";

export const serveCommand: CommandSpec = {
  name: "serve",
  description: "run the prediction server (default http://127.0.0.1:8000): /predict, /health, /model-info, /metrics, /docs, OIP v2",
  options: [
    { flags: "--host <host>", description: "address to bind (default from config: 127.0.0.1; 0.0.0.0 exposes it)" },
    { flags: "--port <port>", description: "port (default from config: 8000; 0 picks a free one)" },
    { flags: "--model <version>", description: "serve this version instead of the active one (no reload on promotion)" },
    { flags: "--no-log-predictions", description: "do not store predictions in the database" },
    { flags: "--workers <n>", description: "processes sharing the port (node:cluster)", default: "1" },
  ],
  run: async () => (await import("../serve.js")).runServe,
};
