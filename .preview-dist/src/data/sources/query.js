import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { ExitCode, MlopsError, usageError } from "../../errors.js";
import { redactUrl } from "../../redact.js";
import { isConnectionError, validateDatabaseUrl } from "../../db/connection.js";
/**
 * Runs a query on another PostgreSQL and streams its result as CSV with a header, through
 * COPY: the rows then take the same path as a CSV file, with no result set held in memory.
 */
export async function queryCsvStream(query, fromDb) {
    validateDatabaseUrl(fromDb);
    const shown = redactUrl(fromDb);
    const trimmed = query.trim().replace(/;+\s*$/, "");
    if (trimmed === "")
        throw usageError("QUERY_EMPTY", "The --query is empty.", "Pass a SELECT statement.");
    const client = new pg.Client({ connectionString: fromDb, connectionTimeoutMillis: 10_000, application_name: "mlops collect" });
    client.on("error", () => undefined);
    try {
        await client.connect();
    }
    catch (error) {
        await client.end().catch(() => undefined);
        throw new MlopsError("SOURCE_DB_UNREACHABLE", `Cannot connect to the source database ${shown}: ${error.message}`, {
            exitCode: ExitCode.unavailable,
            hint: "Check --from-db (host, port, credentials) and that the server is up.",
        });
    }
    const stream = client.query(copyTo(`COPY (${trimmed}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
    async function* bytes() {
        try {
            for await (const chunk of stream)
                yield chunk;
        }
        catch (error) {
            if (isConnectionError(error)) {
                throw new MlopsError("SOURCE_DB_UNREACHABLE", `The source database ${shown} went away during the query: ${error.message}`, {
                    exitCode: ExitCode.unavailable,
                    hint: "Retry when the source database is up.",
                });
            }
            throw usageError("QUERY_FAILED", `The query failed on ${shown}: ${error.message}`, "Check the SQL (run it in psql first).");
        }
        finally {
            await client.end().catch(() => undefined);
        }
    }
    return { bytes: bytes(), name: `query on ${shown}` };
}
//# sourceMappingURL=query.js.map