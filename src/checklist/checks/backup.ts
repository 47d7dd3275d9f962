import path from "node:path";
import { listBackups, openBackup, verifyBackup } from "../../db/backup.js";
import { connectPg } from "../../db/connection.js";
import { MIGRATIONS_DIR } from "../../package-root.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";

const NO_BACKUP = "no backup in .mlops/backups: run mlops db backup (schedule it daily, e.g. from cron)";

function newestBackup(ctx: CheckContext) {
  const [latest] = listBackups(path.join(ctx.project.root, ".mlops", "backups"));
  return latest ? openBackup(latest.path) : undefined;
}

const age = (created: string) => (Date.now() - Date.parse(created)) / 3_600_000;

export const backupChecks = {
  async backupPresent(ctx: CheckContext): Promise<CheckResult> {
    const backup = newestBackup(ctx);
    if (!backup) return fail(NO_BACKUP);
    const rows = backup.manifest.tables.reduce((sum, t) => sum + t.rows, 0);
    return pass(
      `mlops db backup: newest ${backup.name} (${age(backup.manifest.createdAt).toFixed(1)} h old, ${backup.manifest.tables.length} tables, ${rows} rows)`,
    );
  },

  async backupRecent(ctx: CheckContext): Promise<CheckResult> {
    const backup = newestBackup(ctx);
    if (!backup) return fail(NO_BACKUP);
    const hours = age(backup.manifest.createdAt);
    return hours <= 26
      ? pass(`newest backup ${backup.name} is ${hours.toFixed(1)} h old`)
      : fail(`newest backup ${backup.name} is ${hours.toFixed(0)} h old: the daily backup did not run`);
  },

  /** Restores the newest backup into a scratch database and compares every table's rows (as `mlops db restore --verify`). */
  async backupRestores(ctx: CheckContext): Promise<CheckResult> {
    return ctx.memo("backup-restore", async () => {
      const backup = newestBackup(ctx);
      if (!backup) return fail(NO_BACKUP);
      const target = await ctx.database();
      const admin = await connectPg(target, 3000);
      try {
        const verification = await verifyBackup(admin, target.url, backup, MIGRATIONS_DIR);
        const damaged = verification.checks.filter((c) => c.status !== "ok");
        if (damaged.length > 0) return fail(`backup ${backup.name}: ${damaged.map((d) => `${d.table} ${d.status}`).join(", ")}: make a new backup`);
        const tables = verification.outcome?.tables ?? [];
        const differing = tables.filter((t) => t.expectedRows !== t.restoredRows);
        const rows = tables.reduce((sum, t) => sum + t.restoredRows, 0);
        return verification.passed
          ? pass(
              `restored ${backup.name} into a scratch database: ${tables.length} tables, ${rows} rows, every count matches (mlops db restore --verify)`,
            )
          : fail(
              `restoring ${backup.name}: row counts differ in ${differing.map((t) => `${t.name} (${t.restoredRows} of ${t.expectedRows})`).join(", ")}`,
            );
      } finally {
        await admin.end();
      }
    });
  },
};
