import pg from "pg";
import { ExitCode, MlopsError, usageError } from "../errors.js";
import { redactUrl } from "../redact.js";
import type { Project } from "../config/load.js";
import { embeddedStatus, ensureEmbeddedServer, type EmbeddedServer } from "./embedded.js";

export interface DatabaseTarget {
  url: string;
  /** The URL with its password masked: the only form that may be printed. */
  display: string;
  embedded: boolean;
  /** For the embedded server: what resolving it did (joined a running one, started, created). */
  embeddedAction?: EmbeddedServer["action"];
}

/**
 * DATABASE_URL when set; otherwise the project's embedded server, started on demand (unless
 * `start` is false, for checks that must report a stopped server rather than start it).
 */
export async function resolveDatabase(project: Project, { start = true } = {}): Promise<DatabaseTarget> {
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

export function validateDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError("DATABASE_URL_INVALID", "DATABASE_URL is not a valid URL.", "Use the form postgresql://user:password@host:5432/database.");
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw usageError(
      "DATABASE_URL_INVALID",
      `DATABASE_URL must be a postgresql:// URL, not ${parsed.protocol}//.`,
      "Use the form postgresql://user:password@host:5432/database, or unset it to use the embedded database.",
    );
  }
}

// EPIPE: a COPY still writing to a server that was killed (collect reported "write EPIPE" as a bug).
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENETUNREACH"]);

/** True for errors that mean "the database is not there", as opposed to a bad query. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03")) {
    return true;
  }
  const message = error instanceof Error ? error.message : "";
  return /timeout expired|Connection terminated|connect ECONNREFUSED|Can't reach database|not queryable|terminating connection/i.test(message);
}

/** Turns a failure to connect into the toolkit's exit-4 error, naming host and port but no secret. */
export function unreachableError(target: Pick<DatabaseTarget, "display" | "embedded">, error: unknown): MlopsError {
  const code = (error as { code?: string }).code;
  const reason = error instanceof Error ? error.message : String(error);
  let hint = target.embedded
    ? "Run `mlops db status`; `mlops db start` restarts the embedded server."
    : "Check that the server runs and that DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.";
  if (code === "28P01" || code === "28000") hint = "The user or password in DATABASE_URL was refused: check them.";
  if (code === "3D000") hint = "The database named in DATABASE_URL does not exist: create it (createdb) or fix the URL.";
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
export async function connectPg(target: DatabaseTarget, timeoutMs = 5000, applicationName = "mlops"): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: timeoutMs, application_name: applicationName });
  // An idle client whose server goes away emits "error"; the next query reports it instead.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unreachableError(target, error);
  }
  return client;
}

/** The server went away in the middle of a command (killed, restarted, network): exit 4, not a bug. */
export function connectionLost(display: string, error: unknown): MlopsError {
  return new MlopsError("DATABASE_UNREACHABLE", `The connection to PostgreSQL at ${display} broke during the command: ${(error as Error).message}`, {
    exitCode: ExitCode.unavailable,
    hint: "The server rolled back the unfinished transaction; run `mlops db status`, then run the command again.",
    cause: error,
    details: { database: display },
  });
}
