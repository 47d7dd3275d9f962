import cluster from "node:cluster";
import v8 from "node:v8";
import { z } from "zod";
import type { LiveReport } from "../report/live.js";
import type { CommandContext } from "./context.js";
import { count, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";

const serveOptions = z.object({
  host: z.string().min(1).optional(),
  port: count(0, 65_535).optional(),
  model: z.string().min(1).optional(),
  logPredictions: z.boolean(),
  workers: count(1, 64),
});

const SEMI_SPACE_MB = 32;

export async function runServe(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(serveOptions, options);
  const project = openProject(ctx.cwd);
  const host = parsed.host ?? project.config.serve.host;
  const port = parsed.port ?? project.config.serve.port;
  if (parsed.workers > 1 && cluster.isPrimary) return runPrimary(ctx, parsed.workers);
  // Imported here, so a cluster primary (which only forks and waits) never loads the server.
  const { serve } = await import("../server/serve.js");

  const worker = cluster.isWorker ? `worker ${cluster.worker?.id}: ` : "";
  // Every request leaves a few kilobytes of short-lived objects; a larger young generation
  // collects them less often (measured: 8-10% more requests a second, still well under the
  // memory target). V8 takes the new limit when it next grows the young generation.
  v8.setFlagsFromString(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  await serve(project, {
    host,
    port,
    ...(parsed.model ? { model: parsed.model } : {}),
    logPredictions: parsed.logPredictions,
    // The report's code loads on the first view of /dashboard, not with every server or worker.
    dashboard: (target) => {
      let live: Promise<LiveReport> | undefined;
      const open = () => (live ??= import("../report/live.js").then(({ liveReport }) => liveReport(project, target)));
      return { page: async (refreshSeconds) => (await open()).page(refreshSeconds), close: async () => (await live)?.close() };
    },
    onNote: (message) => ctx.out.note(`${worker}${message}`),
    onReady: ({ url, modelVersion }) => {
      if (cluster.isWorker) {
        process.send?.({ ready: true, url, modelVersion });
        return;
      }
      ctx.out.result({ url, modelVersion, pid: process.pid, workers: 1 }, () => "");
      ctx.out.note(`Serving ${modelVersion ?? "no model yet"} at ${url} (docs at ${url}/docs). Stop with Ctrl-C or SIGTERM.`);
    },
  });
  return 0;
}

/**
 * With --workers N the primary forks N servers sharing the port (node:cluster), reports once
 * they all listen, forwards SIGTERM/SIGINT and waits for every worker's graceful stop.
 */
async function runPrimary(ctx: CommandContext, workers: number): Promise<number> {
  let ready = 0;
  const exits: Array<Promise<number>> = [];
  for (let i = 0; i < workers; i += 1) {
    const worker = cluster.fork();
    exits.push(new Promise((resolve) => worker.on("exit", (code) => resolve(code ?? 1))));
    worker.on("message", (message: { ready?: boolean; url?: string; modelVersion?: string | null }) => {
      if (!message.ready) return;
      ready += 1;
      if (ready === workers) {
        ctx.out.result({ url: message.url, modelVersion: message.modelVersion, pid: process.pid, workers }, () => "");
        ctx.out.note(`Serving ${message.modelVersion ?? "no model yet"} at ${message.url} with ${workers} workers. Stop with Ctrl-C or SIGTERM.`);
      }
    });
  }
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const codes = await Promise.all(exits);
  return Math.max(0, ...codes);
}
