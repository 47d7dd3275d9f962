import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { ExitCode, isMlopsError, MlopsError, usageError } from "../../errors.js";
import { connectionLost, isConnectionError } from "../connection.js";
import { MIGRATIONS_TABLE, quoteIdent } from "../identifiers.js";
import { applyMigrations, readMigrations } from "../migrate.js";
import { withTransaction } from "../transaction.js";
import type { Backup, BackupManifest, BackupTable } from "./manifest.js";

/** Refuses a target that already holds rows in any of the backup's tables. */
export async function assertEmptyTarget(client: pg.ClientBase, manifest: BackupManifest): Promise<void> {
  const occupied: string[] = [];
  for (const table of manifest.tables) {
    if (table.name === MIGRATIONS_TABLE) continue;
    const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [quoteIdent(table.name)]);
    if (!exists.rows[0]?.present) continue;
    const any = await client.query(`SELECT 1 FROM ${quoteIdent(table.name)} LIMIT 1`);
    if (any.rowCount !== 0) occupied.push(table.name);
  }
  if (occupied.length > 0) {
    throw usageError(
      "RESTORE_TARGET_NOT_EMPTY",
      `The target database already holds rows in ${occupied.join(", ")}; a restore goes only into an empty database.`,
      "Create an empty database (createdb) and pass its URL, or use --verify to test the backup in a scratch database.",
      { tables: occupied },
    );
  }
}

/** Orders tables so that each comes after the tables its foreign keys reference. */
async function loadOrder(client: pg.ClientBase, tables: string[]): Promise<{ order: string[]; cyclic: boolean }> {
  const edges = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND c.oid <> p.oid`,
  );
  const remaining = new Set(tables);
  const order: string[] = [];
  for (;;) {
    const ready = [...remaining].filter((t) => !edges.rows.some((e) => e.child === t && e.parent !== t && remaining.has(e.parent))).sort();
    if (ready.length === 0) break;
    for (const table of ready) {
      order.push(table);
      remaining.delete(table);
    }
  }
  return { order: [...order, ...[...remaining].sort()], cyclic: remaining.size > 0 };
}

async function loadTable(client: pg.ClientBase, backup: Backup, table: BackupTable): Promise<void> {
  const file = path.join(backup.path, table.file);
  const sql = `COPY ${quoteIdent(table.name)} (${table.columns.map(quoteIdent).join(", ")}) FROM STDIN`;
  try {
    await pipeline(createReadStream(file), createGunzip(), client.query(copyFrom(sql)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (code.startsWith("Z_")) {
      throw new MlopsError("BACKUP_FILE_CORRUPT", `${file} is not a readable gzip file (${(error as Error).message}).`, {
        exitCode: ExitCode.usage,
        hint: "The backup is damaged: restore from another one (`mlops db restore <name>`).",
        cause: error,
        details: { table: table.name, file },
      });
    }
    if (isConnectionError(error)) throw error;
    // Class 22 (data exception) and 23 (integrity): the file's rows do not load, a damaged backup.
    const damaged = /^2[23]/.test((error as { code?: string }).code ?? "");
    throw new MlopsError("RESTORE_TABLE_FAILED", `Restoring ${table.name} from ${file} failed: ${(error as Error).message}`, {
      exitCode: damaged ? ExitCode.usage : ExitCode.failure,
      hint: damaged
        ? "The backup's rows do not load (damaged or edited): restore from another backup."
        : "Nothing was committed; check the server log and free disk space, then retry.",
      cause: error,
      details: { table: table.name },
    });
  }
}

/** The backup's migrations only, so its rows go into the schema they were taken from. */
async function withMigrationSubset<T>(migrationsDir: string, names: string[], fn: (dir: string) => Promise<T>): Promise<T> {
  const known = new Set(readMigrations(migrationsDir).map((m) => m.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw usageError(
      "BACKUP_NEWER_SCHEMA",
      `The backup was taken with migrations this mlops does not have: ${unknown.join(", ")}.`,
      "Restore it with the mlops version that made it (or a newer one).",
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-restore-migrations-"));
  try {
    for (const name of names) {
      await mkdir(path.join(dir, name));
      await copyFile(path.join(migrationsDir, name, "migration.sql"), path.join(dir, name, "migration.sql"));
    }
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface TableRestore {
  name: string;
  expectedRows: number;
  restoredRows: number;
}

export interface RestoreOutcome {
  tables: TableRestore[];
  /** False when a count differed: the load was rolled back. */
  committed: boolean;
  sequences: number;
  /** Migrations newer than the backup, applied after its rows were loaded. */
  migrationsApplied: string[];
}

/**
 * Loads a backup into the connected (empty) database: the schema as of the backup, then every
 * table in foreign-key order in one transaction, the sequences, and last any newer migrations,
 * so they treat the restored rows as they would have treated the originals. The backup's own
 * `_prisma_migrations` rows replace those the schema step wrote, so Prisma sees the history of
 * the original database. Row counts are compared before COMMIT; any difference rolls back.
 */
export async function restoreBackup(client: pg.Client, backup: Backup, migrationsDir: string): Promise<RestoreOutcome> {
  const { manifest } = backup;
  await withMigrationSubset(migrationsDir, manifest.migrations, (dir) => applyMigrations(client, dir));
  const tables: TableRestore[] = [];
  let committed = false;
  try {
    await withTransaction(client, async (tx) => {
      const byName = new Map(manifest.tables.map((t) => [t.name, t]));
      const { order, cyclic } = await loadOrder(client, [...byName.keys()]);
      if (cyclic) await setReplicaRole(client);
      await client.query(`DELETE FROM ${quoteIdent(MIGRATIONS_TABLE)} WHERE migration_name = ANY($1)`, [manifest.migrations]);
      for (const name of order) {
        const table = byName.get(name)!;
        const count = `SELECT count(*)::bigint::text AS n FROM ${quoteIdent(name)}`;
        const before = Number((await client.query<{ n: string }>(count)).rows[0]!.n);
        await loadTable(client, backup, table);
        const after = Number((await client.query<{ n: string }>(count)).rows[0]!.n);
        tables.push({ name, expectedRows: table.rows, restoredRows: after - before });
      }
      for (const sequence of manifest.sequences) {
        await client.query("SELECT setval($1::regclass, $2::bigint, $3)", [quoteIdent(sequence.name), sequence.lastValue, sequence.isCalled]);
      }
      // The prediction log's rollups are left out of backups and rebuilt by their triggers as the log
      // loads; replica mode switches triggers off, so then they are rebuilt from the log at the end.
      if (cyclic && (await client.query("SELECT to_regproc('mlops_prediction_rollup_rebuild') AS f")).rows[0].f !== null) {
        await client.query("SELECT mlops_prediction_rollup_rebuild()");
      }
      committed = tables.every((t) => t.expectedRows === t.restoredRows);
      if (!committed) tx.rollback();
    });
  } catch (error) {
    if (!isMlopsError(error) && isConnectionError(error)) throw connectionLost("the restore target", error);
    throw error;
  }
  const migrationsApplied = committed ? (await applyMigrations(client, migrationsDir)).applied : [];
  return { tables, committed, sequences: manifest.sequences.length, migrationsApplied };
}

/** Foreign keys in a cycle cannot be satisfied table by table: a superuser may switch them off. */
async function setReplicaRole(client: pg.ClientBase): Promise<void> {
  try {
    await client.query("SET LOCAL session_replication_role = replica");
  } catch (error) {
    throw new MlopsError("RESTORE_FK_CYCLE", "The tables' foreign keys form a cycle, and only a superuser may load them with the checks deferred.", {
      exitCode: ExitCode.usage,
      hint: "Restore as a superuser (the embedded database's user is one).",
      cause: error,
    });
  }
}
