import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { newTable } from "../terminal/table.js";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, parseOptions } from "./options.js";
import { chalk } from "../terminal/output.js";
import { openProject, type Project } from "../config/load.js";
import {
  assertEmptyTarget,
  checkBackupFiles,
  createBackup,
  listBackups,
  openBackup,
  pruneBackups,
  restoreBackup,
  verifyBackup,
  type Backup,
  type FileCheck,
  type RestoreOutcome,
} from "../db/backup.js";
import { connectPg, resolveDatabase } from "../db/connection.js";
import { ExitCode, usageError } from "../errors.js";
import { MIGRATIONS_DIR } from "../package-root.js";
import { redactUrl } from "../redact.js";
import { formatBytes } from "../terminal/format.js";
import { formatNumber as n } from "../terminal/format.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `--dir` is relative to where mlops runs; the default lives with the project's database. */
function backupDir(project: Project, cwd: string, dir: string | undefined): string {
  return dir === undefined ? path.join(project.root, ".mlops", "backups") : path.resolve(cwd, dir);
}

const backupOptions = z.object({
  dir: z.string().min(1).optional(),
  keep: count(1, 100_000),
});

export async function runDbBackup(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(backupOptions, options);
  const project = openProject(ctx.cwd);
  const dir = backupDir(project, ctx.cwd, parsed.dir);
  const target = await resolveDatabase(project);
  const client = await connectPg(target);
  const spinner = ctx.out.spinner("Backing up the database");
  const started = Date.now();
  try {
    const backup = await createBackup(client, { dir, database: target.display });
    const pruned = await pruneBackups(dir, parsed.keep);
    spinner.stop();
    const tables = backup.manifest.tables.map((t) => ({ name: t.name, rows: t.rows, bytes: t.bytes }));
    const result = {
      path: backup.path,
      name: backup.name,
      createdAt: backup.manifest.createdAt,
      database: target.display,
      tables,
      totalRows: tables.reduce((sum, t) => sum + t.rows, 0),
      bytes: tables.reduce((sum, t) => sum + t.bytes, 0),
      durationMs: Date.now() - started,
      kept: parsed.keep,
      pruned,
    };
    ctx.out.result(result, () =>
      [
        `Backup ${chalk.bold(result.name)} written to ${result.path}`,
        `tables      ${tables.length}, ${n(result.totalRows)} rows`,
        `size        ${formatBytes(result.bytes)} (gzip)`,
        `took        ${seconds(result.durationMs)}`,
        ...(pruned.length > 0 ? [`pruned      ${pruned.join(", ")} (keeping the newest ${parsed.keep})`] : []),
      ].join("\n"),
    );
    return ExitCode.ok;
  } finally {
    spinner.stop();
    await client.end().catch(() => undefined);
  }
}

const restoreOptions = z
  .object({
    backup: z.string().min(1).optional(),
    verify: z.boolean().optional(),
    targetUrl: z
      .string()
      .refine(
        (url) => URL.canParse(url) && /^postgres(ql)?:$/.test(new URL(url).protocol),
        "must be a postgresql://user:password@host:5432/database URL",
      )
      .optional(),
    dir: z.string().min(1).optional(),
  })
  .refine(
    (o) => (o.verify === true) !== (o.targetUrl !== undefined),
    "give exactly one of --verify (test the backup in a scratch database) and --target-url URL",
  );

/** The named backup (a folder, or a name in the backup folder), else the newest one. */
function chooseBackup(dir: string, cwd: string, ref: string | undefined): Backup {
  const newest = listBackups(dir)[0];
  if (ref === undefined) {
    if (newest === undefined) throw usageError("BACKUP_NONE", `There are no backups in ${dir} yet.`, "Make one with `mlops db backup`.");
    return openBackup(newest.path);
  }
  const found = [path.resolve(cwd, ref), path.join(dir, ref)].find((candidate) => existsSync(candidate) && statSync(candidate).isDirectory());
  if (found === undefined) {
    throw usageError(
      "BACKUP_NOT_FOUND",
      `No backup ${ref}: it is neither a folder nor a backup in ${dir}.`,
      newest === undefined ? "Make one with `mlops db backup`." : `The newest backup is ${newest.name}; leave BACKUP out to use it.`,
    );
  }
  return openBackup(found);
}

export interface RestoreResult {
  mode: "verify" | "target";
  status: "passed" | "failed";
  backup: { name: string; path: string; createdAt: string; toolkitVersion: string };
  /** The scratch database (dropped again) or the target's masked URL; null when nothing was loaded. */
  database: string | null;
  committed: boolean;
  tables: Array<{ name: string; expectedRows: number; restoredRows: number | null; checksum: FileCheck["status"] }>;
  sequences: number;
  migrationsApplied: string[];
  problems: string[];
  durationMs: number;
}

export async function runDbRestore(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const parsed = parseOptions(restoreOptions, { ...options, backup: args[0] }, { backup: "BACKUP" });
  const project = openProject(ctx.cwd);
  const backup = chooseBackup(backupDir(project, ctx.cwd, parsed.dir), ctx.cwd, parsed.backup);
  const started = Date.now();
  const spinner = ctx.out.spinner(`Restoring backup ${backup.name}`);
  try {
    let checks: FileCheck[];
    let database: string | null = null;
    let outcome: RestoreOutcome | undefined;
    if (parsed.targetUrl === undefined) {
      const server = await resolveDatabase(project);
      const admin = await connectPg(server);
      try {
        ({ checks, database, outcome } = await verifyBackup(admin, server.url, backup, MIGRATIONS_DIR));
      } finally {
        await admin.end().catch(() => undefined);
      }
    } else {
      const target = { url: parsed.targetUrl, display: redactUrl(parsed.targetUrl), embedded: false };
      const client = await connectPg(target);
      try {
        await assertEmptyTarget(client, backup.manifest);
        checks = await checkBackupFiles(backup);
        // A file that fails its checksum is never loaded.
        if (checks.every((c) => c.status === "ok")) {
          database = target.display;
          outcome = await restoreBackup(client, backup, MIGRATIONS_DIR);
        }
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    spinner.stop();
    const result = summarise(parsed.verify === true ? "verify" : "target", backup, checks, database, outcome, Date.now() - started);
    ctx.out.result(result, () => renderRestore(result));
    return result.status === "passed" ? ExitCode.ok : ExitCode.gateFailed;
  } finally {
    spinner.stop();
  }
}

function summarise(
  mode: RestoreResult["mode"],
  backup: Backup,
  checks: FileCheck[],
  database: string | null,
  outcome: RestoreOutcome | undefined,
  durationMs: number,
): RestoreResult {
  const problems: string[] = [];
  const tables = backup.manifest.tables.map((table) => {
    const checksum = checks.find((c) => c.table === table.name)!.status;
    const restoredRows = outcome?.tables.find((t) => t.name === table.name)?.restoredRows ?? null;
    if (checksum !== "ok")
      problems.push(`${table.name}: ${table.file} ${checksum === "missing" ? "is missing" : "does not match its sha256 in the manifest"}`);
    if (restoredRows !== null && restoredRows !== table.rows)
      problems.push(`${table.name}: ${n(restoredRows)} rows restored, the manifest says ${n(table.rows)}`);
    return { name: table.name, expectedRows: table.rows, restoredRows, checksum };
  });
  const { manifest } = backup;
  return {
    mode,
    status: problems.length === 0 && outcome?.committed === true ? "passed" : "failed",
    backup: { name: backup.name, path: backup.path, createdAt: manifest.createdAt, toolkitVersion: manifest.toolkitVersion },
    database,
    committed: outcome?.committed ?? false,
    tables,
    sequences: outcome?.sequences ?? 0,
    migrationsApplied: outcome?.migrationsApplied ?? [],
    problems,
    durationMs,
  };
}

function renderRestore(result: RestoreResult): string {
  const table = newTable(["table", "rows", "restored", "checksum"]);
  for (const t of result.tables) {
    const restored = t.restoredRows === null ? "-" : t.restoredRows === t.expectedRows ? n(t.restoredRows) : chalk.red(n(t.restoredRows));
    table.push([t.name, n(t.expectedRows), restored, t.checksum === "ok" ? chalk.green("ok") : chalk.red(t.checksum)]);
  }
  const where = result.mode === "verify" ? "a scratch database (dropped again)" : (result.database ?? "the target");
  const head =
    result.status === "passed"
      ? chalk.green(`Backup ${result.backup.name} restored into ${where}: every table's rows and checksum match.`)
      : chalk.red(
          result.mode === "verify"
            ? `Backup ${result.backup.name} failed verification:`
            : `Backup ${result.backup.name} was not restored; no rows were written to ${result.database ?? "the target"}:`,
        );
  const lines = [head, ...result.problems.map((p) => `  - ${p}`), table.toString(), `took ${seconds(result.durationMs)}`];
  if (result.migrationsApplied.length > 0) lines.push(`newer migrations applied after the load: ${result.migrationsApplied.join(", ")}`);
  return lines.join("\n");
}
