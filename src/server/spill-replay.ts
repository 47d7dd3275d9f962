import { readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { copyBinaryIn } from "../db/copy-binary.js";
import { BisectInterrupted, copyBisecting, refusedData } from "./copy-bisect.js";
import { LOG_COLUMNS, wholeTuplesLength } from "./prediction-log-tuples.js";
import { appendDurably } from "./spill-file.js";

/**
 * Replays the prediction log's spill files (this process's and those left by earlier ones),
 * oldest name first, each in one transaction and without duplicates. A file is removed once
 * its rows are in; a connection failure leaves it (and the ones after it) for the next try.
 */
export async function replaySpillFiles(
  spillDir: string,
  suffix: string,
  connection: () => Promise<pg.Client>,
  note: (message: string) => void,
): Promise<{ replayed: number; rejected: number }> {
  const total = { replayed: 0, rejected: 0 };
  let files: string[];
  try {
    files = (await readdir(spillDir)).filter((f) => f.endsWith(suffix)).sort();
  } catch {
    return total;
  }
  if (files.length === 0) return total;
  const db = await connection();
  for (const name of files) {
    const file = path.join(spillDir, name);
    const read = await readFile(file);
    // A process killed while appending leaves a torn last row: replay the whole ones.
    const tuples = read.subarray(0, wholeTuplesLength(read));
    if (tuples.length < read.length) note(`${name}: left out a torn last row (${read.length - tuples.length} bytes)`);
    if (tuples.length > 0) {
      try {
        const result = await replayTuples(db, tuples);
        total.replayed += result.inserted;
        if (result.rejected.length > 0) {
          // After the commit: a crash before this replays the file again, the good rows
          // skipped as duplicates and the refused ones found again.
          await appendDurably(`${file}.rejected`, Buffer.concat(result.rejected));
          total.rejected += result.rejected.length;
          note(
            `${name}: PostgreSQL refused ${result.rejected.length} row(s) (${result.reason ?? "no reason given"}); set aside in ${name}.rejected, the other rows were replayed`,
          );
        }
      } catch (error) {
        if (!refusedData(error)) throw error;
        // Refused past the COPY (by the insert itself): it would be refused on every try, so
        // the file is set aside whole rather than blocking the files after it.
        await rename(file, `${file}.rejected`);
        note(`${name}: PostgreSQL refused it (${(error as Error).message}); moved to ${name}.rejected`);
        continue;
      }
    }
    await rm(file, { force: true });
  }
  return total;
}

/**
 * One file's tuples in one transaction, through a staging table with ON CONFLICT DO NOTHING.
 * Rows PostgreSQL refuses are found by bisection under savepoints and returned; the rest go in.
 * Anything else (the connection) rolls back and is thrown.
 */
async function replayTuples(db: pg.Client, tuples: Buffer): Promise<{ inserted: number; rejected: Buffer[]; reason?: string }> {
  let rejected: Buffer[] = [];
  let reason: string | undefined;
  await db.query("BEGIN");
  try {
    await db.query("CREATE TEMP TABLE mlops_spill (LIKE predictions INCLUDING DEFAULTS) ON COMMIT DROP");
    const copy = async (part: Buffer) => {
      await db.query("SAVEPOINT mlops_part");
      try {
        await copyBinaryIn(db, "mlops_spill", LOG_COLUMNS, [part]);
      } catch (error) {
        await db.query("ROLLBACK TO SAVEPOINT mlops_part");
        throw error;
      }
    };
    try {
      await copy(tuples);
    } catch (error) {
      if (!refusedData(error)) throw error;
      ({ rejected, reason } = await copyBisecting(tuples, copy));
    }
    const inserted = await db.query(`INSERT INTO predictions SELECT * FROM mlops_spill ON CONFLICT (id) DO NOTHING`);
    await db.query("COMMIT");
    return { inserted: inserted.rowCount ?? 0, rejected, ...(reason !== undefined ? { reason } : {}) };
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error instanceof BisectInterrupted ? error.cause : error;
  }
}
