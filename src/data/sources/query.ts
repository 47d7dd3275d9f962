import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { ExitCode, MlopsError, usageError } from "../../errors.js";
import { redactUrl } from "../../redact.js";
import { isConnectionError, validateDatabaseUrl } from "../../db/connection.js";
import { singleStatement } from "./sql-statement.js";

/**
 * Runs a query on another PostgreSQL and streams its result as CSV with a header, through
 * COPY: the rows then take the same path as a CSV file, with no result set held in memory.
 * Exactly one statement, in a read-only transaction (see sql-statement.ts).
 */
export async function queryCsvStream(query: string, fromDb: string): Promise<{ bytes: AsyncIterable<Buffer>; name: string }> {
  validateDatabaseUrl(fromDb);
  const shown = redactUrl(fromDb);
  const statement = singleStatement(query);
  const client = new pg.Client({ connectionString: fromDb, connectionTimeoutMillis: 10_000, application_name: "mlops collect" });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new MlopsError("SOURCE_DB_UNREACHABLE", `Cannot connect to the source database ${shown}: ${(error as Error).message}`, {
      exitCode: ExitCode.unavailable,
      hint: "Check --from-db (host, port, credentials) and that the server is up.",
    });
  }
  // Read-only: collecting reads; nothing the query does may change the source database.
  await client.query("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  // Newlines around the statement: a trailing -- comment in it cannot swallow the parenthesis.
  const stream = client.query(copyTo(`COPY (\n${statement}\n) TO STDOUT WITH (FORMAT csv, HEADER true)`));
  async function* bytes(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      if (isConnectionError(error)) {
        throw new MlopsError("SOURCE_DB_UNREACHABLE", `The source database ${shown} went away during the query: ${(error as Error).message}`, {
          exitCode: ExitCode.unavailable,
          hint: "Retry when the source database is up.",
        });
      }
      throw usageError("QUERY_FAILED", `The query failed on ${shown}: ${(error as Error).message}`, "Check the SQL (run it in psql first).");
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { bytes: bytes(), name: `query on ${shown}` };
}
