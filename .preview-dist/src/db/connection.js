import pg from "pg";
import { ExitCode, MlopsError, usageError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { embeddedStatus, ensureEmbeddedServer } from "./embedded.js";
/**
 * DATABASE_URL when set; otherwise the project's embedded server, started on demand (unless
 * `start` is false, for checks that must report a stopped server rather than start it).
 */
export async function resolveDatabase(project, { start = true } = {}) {
    const external = process.env.DATABASE_URL;
    if (external !== undefined && external.trim() !== "") {
        validateDatabaseUrl(external);
        return { url: external, display: redactUrl(external), embedded: false };
    }
    if (!start) {
        const status = embeddedStatus(project.root);
        if (!status.running) {
            throw new MlopsError("DATABASE_UNREACHABLE", `The embedded PostgreSQL server is not running (data in ${status.dataDir}).`, {
                exitCode: ExitCode.unavailable,
                hint: "Start it with `mlops db start`.",
            });
        }
    }
    const server = await ensureEmbeddedServer(project.root, project.config.database.port);
    return { url: server.url, display: redactUrl(server.url), embedded: true, embeddedAction: server.action };
}
export function validateDatabaseUrl(url) {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        throw usageError("DATABASE_URL_INVALID", "DATABASE_URL is not a valid URL.", "Use the form postgresql://user:password@host:5432/database.");
    }
    if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
        throw usageError("DATABASE_URL_INVALID", `DATABASE_URL must be a postgresql:// URL, not ${parsed.protocol}//.`, "Use the form postgresql://user:password@host:5432/database, or unset it to use the embedded database.");
    }
}
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH"]);
/** True for errors that mean "the database is not there", as opposed to a bad query. */
export function isConnectionError(error) {
    const code = error?.code;
    if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith("08") || code === "57P01" || code === "57P03")) {
        return true;
    }
    const message = error instanceof Error ? error.message : "";
    return /timeout expired|Connection terminated|connect ECONNREFUSED|Can't reach database/i.test(message);
}
/** Turns a failure to connect into the toolkit's exit-4 error, naming host and port but no secret. */
export function unreachableError(target, error) {
    const code = error.code;
    const reason = error instanceof Error ? error.message : String(error);
    let hint = target.embedded
        ? "Run `mlops db status`; `mlops db start` restarts the embedded server."
        : "Check that the server runs and that DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.";
    if (code === "28P01" || code === "28000")
        hint = "The user or password in DATABASE_URL was refused: check them.";
    if (code === "3D000")
        hint = "The database named in DATABASE_URL does not exist: create it (createdb) or fix the URL.";
    return new MlopsError("DATABASE_UNREACHABLE", `Cannot connect to PostgreSQL at ${target.display}: ${reason}`, {
        exitCode: ExitCode.unavailable,
        hint,
        cause: error,
        details: { database: target.display },
    });
}
/**
 * A plain node-postgres client for quick work (status, migrations, COPY): it connects in
 * milliseconds, where the Prisma client needs most of a second to start.
 */
export async function connectPg(target, timeoutMs = 5000, applicationName = "mlops") {
    const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: timeoutMs, application_name: applicationName });
    // An idle client whose server goes away emits "error"; the next query reports it instead.
    client.on("error", () => undefined);
    try {
        await client.connect();
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw unreachableError(target, error);
    }
    return client;
}
//# sourceMappingURL=connection.js.map