import type pg from "pg";

/** Lets the work inside `withTransaction` end in ROLLBACK without throwing (a skipped batch, a no-op promotion). */
export interface Transaction {
  /** Ends the transaction with ROLLBACK instead of COMMIT once the work returns: nothing it wrote is kept. */
  rollback(): void;
}

/**
 * Runs `work` between BEGIN and COMMIT on one client. Any error rolls back (a failed ROLLBACK on
 * a broken connection is ignored: the server discards the transaction anyway) and is rethrown
 * unchanged, so callers keep their own error translation. `begin` replaces the plain BEGIN when
 * the transaction needs an isolation level or READ ONLY.
 */
export async function withTransaction<T>(client: pg.ClientBase, work: (tx: Transaction) => Promise<T>, begin = "BEGIN"): Promise<T> {
  await client.query(begin);
  let rollback = false;
  try {
    const result = await work({
      rollback: () => {
        rollback = true;
      },
    });
    await client.query(rollback ? "ROLLBACK" : "COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
