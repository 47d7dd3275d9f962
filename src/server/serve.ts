import path from "node:path";
import pg from "pg";
import type { Project } from "../config/load.js";
import { connectPg, type DatabaseTarget } from "../db/connection.js";
import { prepareDatabase } from "../db/session.js";
import { checkedSessionTarget } from "../db/pooling.js";
import { ExitCode, MlopsError } from "../errors.js";
import { buildApp } from "./app.js";
import type { DashboardPages } from "./context.js";
import { PredictionLogWriter } from "./prediction-log.js";
import { activeVersionName, cachedProbe } from "./active-version.js";
import { listenForPromotions } from "./promotion-listener.js";
import { loadServingModel } from "./serving-model.js";

export interface ServeOptions {
  host: string;
  port: number;
  /** A pinned version; otherwise the active one, following promotions. */
  model?: string;
  logPredictions: boolean;
  onReady?: (info: { url: string; modelVersion: string | null }) => void;
  onNote?: (message: string) => void;
  /** The live report page for GET /dashboard, made from the database the server uses (none: no dashboard). */
  dashboard?: (target: DatabaseTarget) => DashboardPages;
}

/**
 * Runs the prediction server until SIGTERM or SIGINT, then stops accepting, lets in-flight
 * requests finish, writes every logged prediction (or spills it to disk if the database is
 * down) and returns.
 */
export async function serve(project: Project, options: ServeOptions): Promise<void> {
  const target = await prepareDatabase(project);
  const pool = new pg.Pool({
    connectionString: target.url,
    max: 3,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 10_000,
    application_name: "mlops serve",
  });
  pool.on("error", () => undefined);
  const ref = options.model ?? "active";
  const probe = cachedProbe(pool);
  const log = options.logPredictions
    ? new PredictionLogWriter({
        connect: () => connectPg(target, 2000),
        spillDir: path.join(project.root, ".mlops", "prediction-spill"),
        onError: (error) => options.onNote?.(`prediction log: database unavailable (${error.message}); rows are kept and written when it returns`),
        onNote: (message) => options.onNote?.(`prediction log: ${message}`),
      })
    : undefined;
  const dashboard = options.dashboard?.(target);
  const { app, holder, reload } = await buildApp({
    config: project.config,
    projectName: path.basename(project.root),
    dashboard,
    log,
    apiKey: process.env.MLOPS_API_KEY || undefined,
    databaseUp: () => probe().then((state) => state.up),
    // A pinned version is not expected to follow the registry.
    ...(options.model ? {} : { activeVersion: () => probe().then((state) => state.active) }),
    loadModel: async () => {
      const client = await pool.connect();
      try {
        return await loadServingModel(project, client, ref);
      } finally {
        client.release();
      }
    },
  });
  try {
    await reload();
  } catch (error) {
    if ((error as MlopsError).code !== "NO_ACTIVE_VERSION") throw error;
    options.onNote?.("No version is active yet: /predict answers 503 until one is promoted (mlops promote).");
  }
  if (log) {
    await log.replaySpills().catch(() => undefined);
    log.start();
  }
  const reloadActive = async (why: string) => {
    try {
      const result = await reload();
      options.onNote?.(`reloaded${why}: ${result.previous ?? "none"} -> ${result.current}`);
    } catch (error) {
      options.onNote?.(`reload${why} failed, still serving ${holder.current?.version ?? "nothing"}: ${(error as Error).message}`);
    }
  };
  const listenTarget = options.model ? undefined : await checkedSessionTarget(target, "Following promotions (LISTEN)");
  const listener = !listenTarget
    ? undefined
    : await listenForPromotions({
        connect: () => connectPg(listenTarget, 2000, "mlops serve listener"),
        onPromotion: () => reloadActive(" after promotion"),
        // Notices sent while the connection was down were lost: catch up if the registry moved.
        onReconnect: async () => {
          const active = await activeVersionName(pool).catch(() => undefined);
          if (active !== undefined && active !== null && active !== holder.current?.version) await reloadActive(" after reconnecting");
        },
      });

  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await Promise.allSettled([listener?.close(), log?.close(), pool.end(), dashboard?.close()]);
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new MlopsError("PORT_IN_USE", `Port ${options.port} on ${options.host} is already in use.`, {
        exitCode: ExitCode.usage,
        hint: "Stop the other server (another mlops serve?) or pass --port <free port>.",
      });
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  options.onReady?.({
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    modelVersion: holder.current?.version ?? null,
  });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  options.onNote?.("stopping: finishing requests and writing the prediction log");
  await app.close();
  await log?.close();
  await listener?.close();
  await dashboard?.close();
  await pool.end();
}
