import { createHash } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { isMlopsError, usageError } from "../../errors.js";
import { TOOLKIT_VERSION } from "../../package-root.js";
import { connectionLost, isConnectionError } from "../connection.js";
import { MIGRATIONS_TABLE, quoteIdent } from "../identifiers.js";
import { ensurePrivateDir } from "../state-dir.js";
import { withTransaction } from "../transaction.js";
import { BACKUP_FORMAT, backupName, PARTIAL_SUFFIX, tableFile, type Backup, type BackupManifest, type BackupTable } from "./manifest.js";

/** Writing a backup: one REPEATABLE READ snapshot, each table as gzipped COPY text, the manifest last. */

// Level 1: examples' JSON rows shrink to 35% of their size; level 6 gets 29% but takes eight times as long.
const GZIP_LEVEL = 1;

interface TableShape {
  name: string;
  columns: string[];
}

/**
 * Tables derived from others that a restore rebuilds by itself: the prediction log's hourly
 * rollups are kept by triggers on `predictions` and `feedback`, which fire as the restore loads
 * those tables. Loading them from the backup as well would count every prediction twice.
 */
const DERIVED_TABLES = ["prediction_rollup", "prediction_latency_rollup"];

async function readTables(client: pg.ClientBase): Promise<TableShape[]> {
  const result = await client.query<{ table: string; columns: string[] }>(
    `SELECT c.relname AS "table", array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
        AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND c.relname <> ALL($1)
      GROUP BY c.relname ORDER BY c.relname`,
    [DERIVED_TABLES],
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
