import pg from "pg";
import { redactUrl } from "../redact.js";
import { connectPg, validateDatabaseUrl, type DatabaseTarget } from "./connection.js";
import { ExitCode, MlopsError, usageError } from "../errors.js";

/**
 * LISTEN/NOTIFY and session advisory locks belong to one PostgreSQL session. A pooler in
 * transaction mode (PgBouncer's pool_mode = transaction, the default of many managed offerings)
 * hands each statement outside a transaction to whichever server connection is free: a LISTEN
 * then hears nothing, and a lock is taken on one session and "released" on another, where it
 * was never held. Such connections are refused here with what to do instead.
 */

/** The variable naming a direct (or session-pooled) connection for LISTEN and locks. */
export const DIRECT_URL_VARIABLE = "DATABASE_DIRECT_URL";

/** Where LISTEN and advisory locks connect: DATABASE_DIRECT_URL when set, else the usual target. */
function sessionTarget(target: DatabaseTarget): DatabaseTarget {
  const direct = process.env[DIRECT_URL_VARIABLE];
  if (target.embedded || direct === undefined || direct.trim() === "") return target;
  try {
    validateDatabaseUrl(direct);
  } catch (error) {
    throw usageError("DATABASE_DIRECT_URL_INVALID", `${DIRECT_URL_VARIABLE} is not a postgresql:// URL.`, (error as MlopsError).hint ?? "");
  }
  return { url: direct, display: redactUrl(direct), embedded: false };
}

/**
 * Connects for LISTEN or advisory locks (through DATABASE_DIRECT_URL when set) and checks that
 * the connection keeps one session; the caller ends the client.
 */
export async function connectSession(target: DatabaseTarget, purpose: string, timeoutMs = 5000, applicationName = "mlops"): Promise<pg.Client> {
  const session = sessionTarget(target);
  const client = await connectPg(session, timeoutMs, applicationName);
  if (session.embedded) return client;
  try {
    await requireOneSession(client, session, purpose);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** Checks once that LISTEN or locks would keep one session, and returns where they should connect. */
export async function checkedSessionTarget(target: DatabaseTarget, purpose: string): Promise<DatabaseTarget> {
  await (await connectSession(target, purpose)).end();
  return sessionTarget(target);
}

/**
 * `SHOW pool_mode` exists only on PgBouncer's admin console, so the mode is seen by its effect:
 * the client asks its backend pid, a second connection then runs a short statement (a pooler
 * in transaction mode gives it the server connection the client just left, as PgBouncer reuses
 * the most recent one first), and the client asks again. A direct connection or session pooling
 * answers the same pid twice; transaction pooling answers another. Costs two connections and
 * about 200 ms, once per connection that needs a session.
 */
async function requireOneSession(client: pg.Client, target: DatabaseTarget, purpose: string): Promise<void> {
  const pid = async (c: pg.Client) => (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  const others = Array.from(
    { length: 2 },
    () => new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 5000, application_name: "mlops session check" }),
  );
  try {
    for (const other of others) {
      other.on("error", () => undefined);
      await other.connect();
    }
    // Other clients of the same process (a pool, the prediction log) may take the server
    // connection just left instead; a few rounds make a transaction pooler show itself.
    for (let round = 0; round < 3; round += 1) {
      const first = await pid(client);
      const busy = Promise.all(others.map((other) => other.query("SELECT pg_sleep(0.05)")));
      await new Promise((resolve) => setTimeout(resolve, 15));
      const second = await pid(client);
      await busy;
      if (second !== first) throw transactionPooling(target, purpose, first, second);
    }
  } finally {
    await Promise.all(others.map((other) => other.end().catch(() => undefined)));
  }
}

function transactionPooling(target: DatabaseTarget, purpose: string, first: number, second: number): MlopsError {
  return new MlopsError(
    "DATABASE_TRANSACTION_POOLING",
    `${target.display} does not keep one PostgreSQL session per connection (backend pid ${first}, then ${second}): it goes through a pooler in transaction mode, such as PgBouncer with pool_mode = transaction. ${purpose} needs one session.`,
    {
      exitCode: ExitCode.usage,
      hint: `Use pool_mode = session for this database in the pooler, or point ${DIRECT_URL_VARIABLE} at PostgreSQL itself (or a session-mode pool) for LISTEN and locks and keep DATABASE_URL on the pooler.`,
      details: { database: target.display, pids: [first, second] },
    },
  );
}
