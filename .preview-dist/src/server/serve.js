import path from "node:path";
import pg from "pg";
import { connectPg } from "../db/connection.js";
import { prepareDatabase } from "../db/session.js";
import { ExitCode, MlopsError } from "../errors.js";
import { buildApp } from "./app.js";
import { PredictionLogWriter } from "./prediction-log.js";
import { MODEL_CHANNEL } from "./channel.js";
import { loadServingModel } from "./serving-model.js";
import { liveReport } from "../report/live.js";
/**
 * Runs the prediction server until SIGTERM or SIGINT, then stops accepting, lets in-flight
 * requests finish, writes every logged prediction (or spills it to disk if the database is
 * down) and returns.
 */
export async function serve(project, options) {
    const target = await prepareDatabase(project);
    const pool = new pg.Pool({ connectionString: target.url, max: 3, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, application_name: "mlops serve" });
    pool.on("error", () => undefined);
    const ref = options.model ?? "active";
    const log = options.logPredictions
        ? new PredictionLogWriter({
            connect: () => connectPg(target, 2000),
            spillDir: path.join(project.root, ".mlops", "prediction-spill"),
            onError: (error) => options.onNote?.(`prediction log: database unavailable (${error.message}); rows are kept and written when it returns`),
            onNote: (message) => options.onNote?.(`prediction log: ${message}`),
        })
        : undefined;
    const dashboard = liveReport(project, target);
    const { app, holder, reload } = await buildApp({
        config: project.config,
        dashboard: () => dashboard.read(),
        log,
        apiKey: process.env.MLOPS_API_KEY || undefined,
        databaseUp: cachedProbe(pool),
        loadModel: async () => {
            const client = await pool.connect();
            try {
                return await loadServingModel(project, client, ref);
            }
            finally {
                client.release();
            }
        },
    });
    try {
        await reload();
    }
    catch (error) {
        if (error.code !== "NO_ACTIVE_VERSION")
            throw error;
        options.onNote?.("No version is active yet: /predict answers 503 until one is promoted (mlops promote).");
    }
    if (log) {
        await log.replaySpills().catch(() => undefined);
        log.start();
    }
    const listener = options.model ? undefined : await listenForPromotions(target, async () => {
        try {
            const result = await reload();
            options.onNote?.(`reloaded: ${result.previous ?? "none"} -> ${result.current}`);
        }
        catch (error) {
            options.onNote?.(`reload after promotion failed, still serving ${holder.current?.version ?? "nothing"}: ${error.message}`);
        }
    });
    try {
        await app.listen({ host: options.host, port: options.port });
    }
    catch (error) {
        await Promise.allSettled([listener?.close(), log?.close(), pool.end(), dashboard.close()]);
        if (error.code === "EADDRINUSE") {
            throw new MlopsError("PORT_IN_USE", `Port ${options.port} on ${options.host} is already in use.`, {
                exitCode: ExitCode.usage,
                hint: "Stop the other server (another mlops serve?) or pass --port <free port>.",
            });
        }
        throw error;
    }
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : options.port;
    options.onReady?.({ url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`, modelVersion: holder.current?.version ?? null });
    await new Promise((resolve) => {
        const stop = () => resolve();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
    });
    options.onNote?.("stopping: finishing requests and writing the prediction log");
    await app.close();
    await log?.close();
    await listener?.close();
    await dashboard.close();
    await pool.end();
}
/** Whether the database answers, asked at most once a second. */
function cachedProbe(pool) {
    let last = { at: 0, up: true };
    return async () => {
        if (Date.now() - last.at < 1000)
            return last.up;
        let up = false;
        try {
            await pool.query("SELECT 1");
            up = true;
        }
        catch {
            up = false;
        }
        last = { at: Date.now(), up };
        return up;
    };
}
/** LISTEN for promotions, reconnecting (every 2 s) when the database goes away. */
async function listenForPromotions(target, onPromotion) {
    let client;
    let closed = false;
    let timer;
    const connect = async () => {
        if (closed)
            return;
        try {
            const next = await connectPg(target, 2000, "mlops serve listener");
            next.on("notification", (message) => {
                if (message.channel === MODEL_CHANNEL)
                    void onPromotion();
            });
            next.on("error", () => retry());
            next.on("end", () => retry());
            await next.query(`LISTEN ${MODEL_CHANNEL}`);
            client = next;
        }
        catch {
            retry();
        }
    };
    const retry = () => {
        client = undefined;
        if (!closed && !timer) {
            timer = setTimeout(() => {
                timer = undefined;
                // A promotion may have happened while we were not listening.
                void connect().then(() => client && onPromotion());
            }, 2000);
            timer.unref();
        }
    };
    await connect();
    return {
        async close() {
            closed = true;
            if (timer)
                clearTimeout(timer);
            await client?.end().catch(() => undefined);
        },
    };
}
//# sourceMappingURL=serve.js.map