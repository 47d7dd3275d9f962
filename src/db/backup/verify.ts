import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { ExitCode, MlopsError } from "../../errors.js";
import type { Backup } from "./manifest.js";
import { restoreBackup, type RestoreOutcome } from "./restore.js";

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
