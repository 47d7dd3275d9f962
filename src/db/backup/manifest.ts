import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { usageError } from "../../errors.js";
import { formatIssues } from "../../zod-issues.js";

/**
 * Logical backups of our own, because pg_dump cannot be relied on: the embedded server is
 * PostgreSQL 18, the embedded package ships no pg_dump, and an older pg_dump on the machine
 * refuses newer servers. A backup is one folder per run: each table of the current schema as
 * gzipped COPY text (`<table>.copy.gz`) and a `manifest.json` with row counts, checksums, the
 * applied migrations and the sequences' values.
 */
export const BACKUP_FORMAT = "mlops-backup/1";
export const PARTIAL_SUFFIX = ".partial";
const BACKUP_NAME = /^\d{8}T\d{6}Z(-\d+)?$/;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

export const tableFile = (table: string): string => `${table}.copy.gz`;

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
