import { existsSync, statSync } from "node:fs";
import { embeddedPaths } from "../../db/embedded.js";
import { migrationStatus } from "../../db/migrate.js";
import { MIGRATIONS_TABLE } from "../../db/identifiers.js";
import { connectPg } from "../../db/connection.js";
import { MIGRATIONS_DIR } from "../../package-root.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";

/** The tables and indexes the commands rely on (prisma/schema.prisma). */
const TABLES = [
  "batches",
  "examples",
  "quarantined_rows",
  "model_versions",
  "evaluations",
  "promotions",
  "predictions",
  "feedback",
  "pipeline_runs",
  "stage_runs",
  "checklist_signoffs",
  "prediction_rollup",
  "prediction_latency_rollup",
  MIGRATIONS_TABLE,
];
const INDEXES = [
  "examples_row_hash_idx",
  "examples_batch_id_idx",
  "batches_checksum_idx",
  "model_versions_version_key",
  "evaluations_version_id_created_at_idx",
  "promotions_created_at_idx",
  "predictions_created_at_idx",
  "feedback_prediction_id_idx",
  "pipeline_runs_pipeline_started_at_idx",
  "stage_runs_run_id_idx",
  "checklist_signoffs_item_id_created_at_idx",
];

export async function migrations(ctx: CheckContext) {
  return ctx.memo("migrations", async () => {
    const client = await connectPg(await ctx.database(), 3000);
    try {
      return await migrationStatus(client, MIGRATIONS_DIR);
    } finally {
      await client.end();
    }
  });
}

export const databaseChecks = {
  async databaseHealthy(ctx: CheckContext): Promise<CheckResult> {
    const started = performance.now();
    const [row] = await ctx.query<{ version: string; recovery: boolean }>(
      "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS recovery",
    );
    const target = await ctx.database();
    const evidence = `PostgreSQL ${row!.version} at ${target.display} answered in ${(performance.now() - started).toFixed(0)} ms${row!.recovery ? " (read-only replica!)" : ""}`;
    return row!.recovery ? fail(evidence) : pass(evidence);
  },

  async projectInitialised(ctx: CheckContext): Promise<CheckResult> {
    const status = await migrations(ctx);
    return status.pending.length === 0 && status.applied.length > 0
      ? pass(`mlops init done: config valid, ${status.applied.length} migration(s) applied`)
      : fail(`the schema is not set up (${status.pending.length} migration(s) pending): run mlops init`);
  },

  async schemaMigrated(ctx: CheckContext): Promise<CheckResult> {
    const s = await migrations(ctx);
    const problems = [
      s.pending.length && `pending: ${s.pending.join(", ")}`,
      s.failed.length && `failed: ${s.failed.join(", ")}`,
      s.edited.length && `edited since applied: ${s.edited.join(", ")}`,
    ].filter(Boolean);
    return problems.length === 0
      ? pass(`${s.applied.length} migration(s) applied, none pending (Prisma's _prisma_migrations)`)
      : fail(`${problems.join("; ")}: run mlops db migrate`);
  },

  async tablesPresent(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
    const present = new Set(rows.map((r) => r.table_name));
    const missing = TABLES.filter((t) => !present.has(t));
    return missing.length === 0 ? pass(`all ${TABLES.length} tables present`) : fail(`missing tables: ${missing.join(", ")}: run mlops db migrate`);
  },

  async indexesPresent(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()");
    const present = new Set(rows.map((r) => r.indexname));
    const missing = INDEXES.filter((i) => !present.has(i));
    return missing.length === 0
      ? pass(`all ${INDEXES.length} indexes the commands use are present`)
      : fail(`missing indexes: ${missing.join(", ")}: run mlops db migrate`);
  },

  async privileges(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ table: string; ok: boolean }>(
      `SELECT t AS table, has_table_privilege(t, 'SELECT') AND has_table_privilege(t, 'INSERT') AND has_table_privilege(t, 'UPDATE') AS ok
         FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL`,
      [TABLES],
    );
    const missing = rows.filter((r) => !r.ok).map((r) => r.table);
    const [{ user }] = (await ctx.query<{ user: string }>("SELECT current_user AS user")) as [{ user: string }];
    return missing.length === 0
      ? pass(`${user} may read and write all ${rows.length} tables`)
      : fail(`${user} lacks SELECT/INSERT/UPDATE on: ${missing.join(", ")}: GRANT them`);
  },

  async pipelineTables(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('pipeline_runs', 'stage_runs')",
    );
    return rows[0]!.n === 2
      ? pass("pipeline_runs and stage_runs exist: pipelines can record their runs")
      : fail("the pipeline tables are missing: run mlops db migrate");
  },

  async databaseSize(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ size: string; biggest: string }>(
      `SELECT pg_size_pretty(pg_database_size(current_database())) AS size,
              (SELECT string_agg(relname || ' ' || pg_size_pretty(pg_total_relation_size(relid)), ', ' ORDER BY pg_total_relation_size(relid) DESC)
                 FROM (SELECT relid, relname FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC LIMIT 3) t) AS biggest`,
    );
    return pass(`database size ${rows[0]!.size}; largest tables: ${rows[0]!.biggest ?? "none"} (mlops db status shows it too)`);
  },

  async queryPerformance(ctx: CheckContext): Promise<CheckResult> {
    const queries: Array<[string, string]> = [
      ["active version", "SELECT to_version_id FROM promotions ORDER BY id DESC LIMIT 1"],
      ["recent predictions", "SELECT count(*) FROM predictions WHERE created_at > now() - interval '1 hour'"],
      ["newest batch rows", "SELECT count(*) FROM examples WHERE batch_id = (SELECT max(id) FROM batches)"],
      ["latest evaluations", "SELECT * FROM evaluations ORDER BY version_id, created_at DESC LIMIT 20"],
    ];
    const timings: string[] = [];
    let slow = 0;
    for (const [name, sql] of queries) {
      const started = performance.now();
      await ctx.query(sql);
      const ms = performance.now() - started;
      if (ms > 1000) slow += 1;
      timings.push(`${name} ${ms.toFixed(0)} ms`);
    }
    const statements = await ctx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND now() - query_start > interval '30 seconds'",
    );
    const evidence = `${timings.join(", ")}; ${statements[0]!.n} queries running over 30 s`;
    return slow === 0 && statements[0]!.n === 0 ? pass(evidence) : fail(`${evidence}: look for missing indexes or long transactions`);
  },

  async vacuumAnalyze(ctx: CheckContext): Promise<CheckResult> {
    const [settings] = await ctx.query<{ autovacuum: string }>("SELECT current_setting('autovacuum') AS autovacuum");
    const rows = await ctx.query<{ relname: string; analyzed: boolean; dead: number; live: number }>(
      `SELECT relname, coalesce(last_analyze, last_autoanalyze) IS NOT NULL AS analyzed, n_dead_tup::int AS dead, n_live_tup::int AS live
         FROM pg_stat_user_tables WHERE relname IN ('examples', 'predictions', 'batches')`,
    );
    const bloated = rows.filter((r) => r.live > 1000 && r.dead > r.live * 0.5).map((r) => r.relname);
    const evidence = `autovacuum ${settings!.autovacuum}; ${rows.filter((r) => r.analyzed).length}/${rows.length} main tables analysed${bloated.length ? `; many dead rows in ${bloated.join(", ")}` : ""}`;
    return settings!.autovacuum === "on" && bloated.length === 0 ? pass(evidence) : fail(`${evidence}: run VACUUM ANALYZE`);
  },

  async postgresLogs(ctx: CheckContext): Promise<CheckResult> {
    const target = await ctx.database();
    if (target.embedded) {
      const log = embeddedPaths(ctx.project.root).logFile;
      return existsSync(log) ? pass(`embedded server log: ${log} (${(statSync(log).size / 1024).toFixed(0)} kB)`) : fail(`no server log at ${log}`);
    }
    const rows = await ctx
      .query<{ file: string | null; collector: string }>("SELECT pg_current_logfile() AS file, current_setting('logging_collector') AS collector")
      .catch(() => []);
    const row = rows[0];
    return row?.file
      ? pass(`server log: ${row.file}`)
      : pass(`logging_collector ${row?.collector ?? "unknown"}: the server logs to its stderr (see the service manager, e.g. journalctl)`);
  },

  async auditLog(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ promotions: number; signoffs: number; runs: number }>(
      "SELECT (SELECT count(*)::int FROM promotions) AS promotions, (SELECT count(*)::int FROM checklist_signoffs) AS signoffs, (SELECT count(*)::int FROM pipeline_runs) AS runs",
    );
    return pass(
      `append-only records: ${row!.promotions} promotions (who, when, why), ${row!.signoffs} sign-offs, ${row!.runs} pipeline runs, every prediction with its request id`,
    );
  },
};
