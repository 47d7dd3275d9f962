import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { ExitCode, MlopsError } from "../errors.js";
import { MIGRATIONS_TABLE, quoteIdent } from "./identifiers.js";
import { withTransaction } from "./transaction.js";

/**
 * Applies the migrations in prisma/migrations with Prisma's own bookkeeping, so that
 * `prisma migrate status` and `prisma migrate deploy` (on a machine that can download Prisma's
 * engine) agree with what mlops applied: the same `_prisma_migrations` table, the same sha256
 * checksums of migration.sql, and the same advisory lock (72707369) against concurrent runs.
 * Unlike Prisma, each migration and its bookkeeping row commit in one transaction, so a failed
 * migration leaves nothing behind and can simply be fixed and re-run.
 */
const PRISMA_ADVISORY_LOCK = 72707369;

const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${quoteIdent(MIGRATIONS_TABLE)} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied migrations whose migration.sql changed since (Prisma reports these too). */
  edited: string[];
  /** Rows Prisma left unfinished (a failed `prisma migrate deploy`): they block further migrations. */
  failed: string[];
}

export const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** The migration folders, in the order Prisma applies them (by name, which starts with a timestamp). */
export function readMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: sha256(sql) };
    });
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function readRows(client: pg.Client): Promise<MigrationRow[] | undefined> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [quoteIdent(MIGRATIONS_TABLE)]);
  if (!exists.rows[0]?.present) return undefined;
  const result = await client.query<MigrationRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM ${quoteIdent(MIGRATIONS_TABLE)} ORDER BY started_at, migration_name`,
  );
  return result.rows;
}

export function compareMigrations(files: MigrationFile[], rows: MigrationRow[]): MigrationStatus {
  const live = rows.filter((row) => row.rolled_back_at === null);
  const finished = new Map(live.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row]));
  return {
    applied: files.filter((file) => finished.has(file.name)).map((file) => file.name),
    pending: files.filter((file) => !live.some((row) => row.migration_name === file.name)).map((file) => file.name),
    edited: files.filter((file) => finished.has(file.name) && finished.get(file.name)?.checksum !== file.checksum).map((f) => f.name),
    failed: live.filter((row) => row.finished_at === null).map((row) => row.migration_name),
  };
}

export async function migrationStatus(client: pg.Client, dir: string): Promise<MigrationStatus> {
  const rows = (await readRows(client)) ?? [];
  return compareMigrations(readMigrations(dir), rows);
}

/** Applies every pending migration; safe to run from several processes at once. */
export async function applyMigrations(client: pg.Client, dir: string): Promise<{ applied: string[]; status: MigrationStatus }> {
  const files = readMigrations(dir);
  await client.query("SET lock_timeout = '120s'");
  await client.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK]);
  try {
    let rows = await readRows(client);
    if (rows === undefined) {
      await refuseForeignDatabase(client);
      await client.query(MIGRATIONS_TABLE_DDL);
      rows = [];
    }
    const before = compareMigrations(files, rows);
    if (before.failed.length > 0) {
      throw new MlopsError("MIGRATION_FAILED_BEFORE", `A migration failed earlier and was never resolved: ${before.failed.join(", ")}.`, {
        exitCode: ExitCode.usage,
        hint: "Fix the database by hand, then mark it with `prisma migrate resolve --rolled-back <name>` (or --applied) and re-run.",
      });
    }
    const applied: string[] = [];
    for (const file of files.filter((f) => before.pending.includes(f.name))) {
      await applyOne(client, file);
      applied.push(file.name);
    }
    return { applied, status: compareMigrations(files, (await readRows(client)) ?? []) };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
  }
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<void> {
  try {
    await withTransaction(client, async () => {
      await client.query(file.sql);
      await client.query(
        `INSERT INTO ${quoteIdent(MIGRATIONS_TABLE)} (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, NULL, now(), 1)`,
        [randomUUID(), file.checksum, file.name],
      );
    });
  } catch (error) {
    if (error instanceof MlopsError) throw error;
    throw new MlopsError("MIGRATION_FAILED", `Migration ${file.name} failed and was rolled back: ${(error as Error).message}`, {
      cause: error,
      hint: "Nothing of it was applied. Check that the database user may create tables, then run `mlops db migrate` again.",
    });
  }
}

/** Like Prisma (P3005), never migrate a non-empty database that no migration history manages. */
async function refuseForeignDatabase(client: pg.Client): Promise<void> {
  const tables = await client.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  if (Number(tables.rows[0]?.count ?? 0) > 0) {
    throw new MlopsError("DATABASE_NOT_EMPTY", "The database already holds tables but no migration history, so mlops will not touch it.", {
      exitCode: ExitCode.usage,
      hint: "Point DATABASE_URL at an empty database of its own (createdb mlops), or use the embedded database.",
    });
  }
}
