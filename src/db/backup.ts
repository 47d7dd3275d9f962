import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { z } from "zod";
import { ExitCode, isMlopsError, MlopsError, usageError } from "../errors.js";
import { TOOLKIT_VERSION } from "../package-root.js";
import { connectionLost, isConnectionError } from "./connection.js";
import { applyMigrations, readMigrations } from "./migrate.js";
import { ensurePrivateDir } from "./state-dir.js";
import { MIGRATIONS_TABLE, quoteIdent } from "./identifiers.js";
import { withTransaction } from "./transaction.js";
import { formatIssues } from "../zod-issues.js";

/**
 * Logical backups of our own, because pg_dump cannot be relied on: the embedded server is
 * PostgreSQL 18, the embedded package ships no pg_dump, and an older pg_dump on the machine
 * refuses newer servers. A backup is one folder per run: each table of the current schema as
 * gzipped COPY text (`<table>.copy.gz`) and a `manifest.json` with row counts, checksums, the
 * applied migrations and the sequences' values.
 */
export const BACKUP_FORMAT = "mlops-backup/1";
const PARTIAL_SUFFIX = ".partial";
const BACKUP_NAME = /^\d{8}T\d{6}Z(-\d+)?$/;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Level 1: examples' JSON rows shrink to 35% of their size; level 6 gets 29% but takes eight times as long.
const GZIP_LEVEL = 1;

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  toolkitVersion: z.string(),
  createdAt: z.string(),
  durationMs: z.number(),
  database: z.string(),
  serverVersion: z.string(),
  migrations: z.array(z.string()),
  tables: z.array(
    z.object({
      name: z.string().regex(TABLE_NAME),
      file: z.string(),
      columns: z.array(z.string()).min(1),
      rows: z.number().int().min(0),
      bytes: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  sequences: z.array(
    z.object({ name: z.string(), table: z.string().nullable(), column: z.string().nullable(), lastValue: z.string(), isCalled: z.boolean() }),
  ),
});
export type BackupManifest = z.infer<typeof manifestSchema>;
export type BackupTable = BackupManifest["tables"][number];

export interface Backup {
  name: string;
  path: string;
  manifest: BackupManifest;
}

const tableFile = (table: string): string => `${table}.copy.gz`;

/** `20261129T143501Z`: sorts by time, safe in any file system. */
export function backupName(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** Complete backups in `dir`, newest first. Unfinished `.partial` folders are not backups. */
export function listBackups(dir: string): Array<{ name: string; path: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && BACKUP_NAME.test(entry.name) && existsSync(path.join(dir, entry.name, "manifest.json")))
    .map((entry) => ({ name: entry.name, path: path.join(dir, entry.name) }))
    .sort((a, b) => compareNames(b.name, a.name));
}

/** By time, then by the suffix a second backup within the same second gets (`-2`, `-3`). */
function compareNames(a: string, b: string): number {
  const [timeA = "", suffixA = "1"] = a.split("-");
  const [timeB = "", suffixB = "1"] = b.split("-");
  return timeA === timeB ? Number(suffixA) - Number(suffixB) : timeA < timeB ? -1 : 1;
}

interface TableShape {
  name: string;
  columns: string[];
}

async function readTables(client: pg.ClientBase): Promise<TableShape[]> {
  const result = await client.query<{ table: string; columns: string[] }>(
    `SELECT c.relname AS "table", array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
        AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      GROUP BY c.relname ORDER BY c.relname`,
  );
  return result.rows.map((row) => ({ name: row.table, columns: row.columns }));
}

/** Every sequence of the schema: the serial columns' and any standalone one, with its owner. */
async function readSequences(client: pg.ClientBase): Promise<BackupManifest["sequences"]> {
  const owned = await client.query<{ name: string; table: string | null; column: string | null }>(
    `SELECT s.relname AS name, t.relname AS "table", a.attname AS "column"
       FROM pg_class s
       LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_class t ON t.oid = d.refobjid
       LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
      WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace
      ORDER BY s.relname`,
  );
  const sequences: BackupManifest["sequences"] = [];
  for (const row of owned.rows) {
    const value = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${quoteIdent(row.name)}`);
    sequences.push({ ...row, lastValue: value.rows[0]!.last_value, isCalled: value.rows[0]!.is_called });
  }
  return sequences;
}

/** Counts and hashes the bytes passing through, on their way to the file. */
function meter(): Transform & { bytes: number; sha256: () => string } {
  const hash = createHash("sha256");
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      stream.bytes += chunk.length;
      callback(null, chunk);
    },
  }) as Transform & { bytes: number; sha256: () => string };
  stream.bytes = 0;
  stream.sha256 = () => hash.digest("hex");
  return stream;
}

async function dumpTable(client: pg.ClientBase, table: TableShape, folder: string): Promise<BackupTable> {
  const file = tableFile(table.name);
  const copy = client.query(copyTo(`COPY ${quoteIdent(table.name)} (${table.columns.map(quoteIdent).join(", ")}) TO STDOUT`));
  const bytes = meter();
  await pipeline(
    copy,
    createGzip({ level: GZIP_LEVEL }),
    bytes,
    createWriteStream(path.join(folder, file), { flags: "wx", flush: true, mode: 0o600 }),
  );
  return { name: table.name, file, columns: table.columns, rows: copy.rowCount, bytes: bytes.bytes, sha256: bytes.sha256() };
}

/** Creates `<name>.partial` in `dir`, with a suffix when a backup of the same second exists. */
async function claimFolder(dir: string, name: string): Promise<{ name: string; partial: string }> {
  // Backups hold every example and prediction: for the owner alone (folders 0700, files 0600).
  await ensurePrivateDir(dir);
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    if (existsSync(path.join(dir, candidate))) continue;
    try {
      const partial = path.join(dir, candidate + PARTIAL_SUFFIX);
      await mkdir(partial, { mode: 0o700 });
      await chmod(partial, 0o700);
      return { name: candidate, partial };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/**
 * Writes a backup of every table in the current schema from one REPEATABLE READ snapshot, so
 * rows that reference each other are captured together even while others write. Files go into
 * `<name>.partial`, renamed once the manifest is written: a killed backup never looks complete.
 */
export async function createBackup(client: pg.ClientBase, options: { dir: string; database: string }): Promise<Backup> {
  const started = new Date();
  const { name, partial } = await claimFolder(options.dir, backupName(started));
  try {
    const snapshot = await withTransaction(client, async () => {
      await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const tables = await readTables(client);
      if (!tables.some((t) => t.name === MIGRATIONS_TABLE)) {
        throw usageError("BACKUP_NO_SCHEMA", "The database holds no mlops schema to back up.", "Run `mlops init` (or `mlops db migrate`) first.");
      }
      // As pg_dump does: no migration may alter a table while it is being copied.
      await client.query(`LOCK TABLE ${tables.map((t) => quoteIdent(t.name)).join(", ")} IN ACCESS SHARE MODE`);
      const migrations = await client.query<{ migration_name: string }>(
        `SELECT migration_name FROM ${quoteIdent(MIGRATIONS_TABLE)} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
      );
      const server = await client.query<{ server_version: string }>("SHOW server_version");
      const sequences = await readSequences(client);
      const written: BackupTable[] = [];
      for (const table of tables) written.push(await dumpTable(client, table, partial));
      return { migrations, server, sequences, written };
    });
    const { migrations, server, sequences, written } = snapshot;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      toolkitVersion: TOOLKIT_VERSION,
      createdAt: started.toISOString(),
      durationMs: Date.now() - started.getTime(),
      database: options.database,
      serverVersion: server.rows[0]!.server_version,
      migrations: migrations.rows.map((r) => r.migration_name),
      tables: written,
      sequences,
    };
    await writeFile(path.join(partial, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`, { flush: true, mode: 0o600 });
    const folder = path.join(options.dir, name);
    await rename(partial, folder);
    return { name, path: folder, manifest };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (!isMlopsError(error) && isConnectionError(error)) throw connectionLost(options.database, error);
    throw error;
  }
}

/**
 * Keeps the newest `keep` complete backups and deletes the rest, along with `.partial` folders
 * over a day old (a killed backup's leftovers; a younger one may still be being written).
 */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const removed = listBackups(dir).slice(keep);
  if (existsSync(dir)) {
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (entry.endsWith(PARTIAL_SUFFIX) && BACKUP_NAME.test(entry.slice(0, -PARTIAL_SUFFIX.length)) && statSync(full).mtimeMs < dayAgo) {
        removed.push({ name: entry, path: full });
      }
    }
  }
  for (const backup of removed) await rm(backup.path, { recursive: true, force: true });
  return removed.map((b) => b.name);
}

/** Reads a backup folder's manifest; anything missing or malformed is an invalid backup (exit 2). */
export function openBackup(folder: string): Backup {
  const name = path.basename(folder);
  const manifestPath = path.join(folder, "manifest.json");
  if (name.endsWith(PARTIAL_SUFFIX) || !existsSync(manifestPath)) {
    throw usageError(
      "BACKUP_INCOMPLETE",
      `${folder} is not a complete backup (it has no manifest.json).`,
      "Pick a complete backup, or make a new one with `mlops db backup`.",
    );
  }
  let parsed: ReturnType<typeof manifestSchema.safeParse>;
  try {
    parsed = manifestSchema.safeParse(JSON.parse(readFileSync(manifestPath, "utf8")));
  } catch (error) {
    throw usageError(
      "BACKUP_INVALID",
      `${manifestPath} is not valid JSON (truncated or damaged): ${(error as Error).message}`,
      "The backup cannot be trusted: restore from another one (`mlops db restore <name>`; the folder names are the backups), or make a new one with `mlops db backup`.",
    );
  }
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues);
    throw usageError(
      "BACKUP_INVALID",
      `${manifestPath} is not an mlops backup manifest:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "Restore from another backup, or make a new one with `mlops db backup`.",
      { problems },
    );
  }
  for (const table of parsed.data.tables) {
    if (table.file !== tableFile(table.name)) {
      throw usageError(
        "BACKUP_INVALID",
        `${manifestPath}: table ${table.name} names the file ${table.file}.`,
        "The manifest was edited: restore from another backup.",
      );
    }
  }
  const missing = parsed.data.tables.filter((t) => !existsSync(path.join(folder, t.file))).map((t) => t.file);
  if (missing.length > 0) {
    throw usageError(
      "BACKUP_INCOMPLETE",
      `Backup ${name} lacks ${missing.join(", ")}.`,
      "Restore from another backup, or make a new one with `mlops db backup`.",
      { missing },
    );
  }
  return { name, path: folder, manifest: parsed.data };
}

export interface FileCheck {
  table: string;
  file: string;
  status: "ok" | "missing" | "mismatch";
}

/** Hashes each table's file against the manifest, before anything of it is loaded. */
export async function checkBackupFiles(backup: Backup): Promise<FileCheck[]> {
  const checks: FileCheck[] = [];
  for (const table of backup.manifest.tables) {
    const file = path.join(backup.path, table.file);
    if (!existsSync(file)) {
      checks.push({ table: table.name, file, status: "missing" });
      continue;
    }
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    checks.push({ table: table.name, file, status: hash.digest("hex") === table.sha256 ? "ok" : "mismatch" });
  }
  return checks;
}

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

/**
 * Runs `fn` on a fresh database on the same server as `adminUrl`, dropped afterwards whatever
 * happens. template0, so nothing a site added to template1 makes the schema step refuse it.
 */
export async function withScratchDatabase<T>(
  admin: pg.ClientBase,
  adminUrl: string,
  fn: (client: pg.Client, name: string) => Promise<T>,
): Promise<T> {
  const name = `mlops_restore_check_${randomBytes(6).toString("hex")}`;
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
    throw new MlopsError(
      "RESTORE_CANNOT_CREATE_DATABASE",
      `The database user may not create the scratch database a verification needs: ${(error as Error).message}`,
      {
        exitCode: ExitCode.usage,
        hint: "Grant it (ALTER ROLE <user> CREATEDB), or restore into an empty database you created with --target-url.",
        cause: error,
      },
    );
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString(), application_name: "mlops restore check" });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await fn(client, name);
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

export interface Verification {
  checks: FileCheck[];
  /** The scratch database's name; null when a checksum failed and nothing was loaded. */
  database: string | null;
  outcome: RestoreOutcome | undefined;
  passed: boolean;
}

/**
 * Proves a backup restores: checksums first (a damaged file is never loaded), then a full
 * restore into a scratch database on the server of `adminUrl`, dropped afterwards.
 */
export async function verifyBackup(admin: pg.ClientBase, adminUrl: string, backup: Backup, migrationsDir: string): Promise<Verification> {
  const checks = await checkBackupFiles(backup);
  if (!checks.every((c) => c.status === "ok")) return { checks, database: null, outcome: undefined, passed: false };
  let database: string | null = null;
  const outcome = await withScratchDatabase(admin, adminUrl, (client, name) => {
    database = name;
    return restoreBackup(client, backup, migrationsDir);
  });
  return { checks, database, outcome, passed: outcome.committed };
}
