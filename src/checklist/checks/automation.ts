import cronParser from "cron-parser";
import { BUILT_IN_PIPELINES, pipelineStages } from "../../pipeline/stages.js";
import { fail, notApplicable, pass, type CheckContext, type CheckResult } from "../context.js";
import { formatCount } from "../../terminal/format.js";

const MACROS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
};

function checkSchedule(ctx: CheckContext, pipeline: string): CheckResult {
  const cron = ctx.project.config.schedules[pipeline];
  if (!cron)
    return fail(
      `no schedule for ${pipeline}: add "schedules": { "${pipeline}": "@daily" } and run mlops scheduler (or cron/systemd calling mlops run ${pipeline})`,
    );
  try {
    const next = cronParser
      .parseExpression(MACROS[cron] ?? cron, { tz: "UTC" })
      .next()
      .toDate();
    return pass(`${pipeline}: "${cron}", next run ${next.toISOString()} (mlops scheduler)`);
  } catch (error) {
    return fail(`${pipeline}: "${cron}" is not a valid schedule: ${(error as Error).message}`);
  }
}

async function lastRun(ctx: CheckContext, pipeline: string) {
  const rows = await ctx.query<{
    id: number;
    status: string;
    started_at: Date;
    error: string | null;
    outputs: Record<string, Record<string, unknown>> | null;
  }>("SELECT id, status, started_at, error, outputs FROM pipeline_runs WHERE pipeline = $1 AND status <> 'running' ORDER BY id DESC LIMIT 1", [
    pipeline,
  ]);
  return rows[0];
}

/**
 * data-collection collects the config's sources: with none (data arrives by `mlops collect --file`
 * or `seed`) it has nothing to run, and the default config does not schedule it.
 */
function noSources(ctx: CheckContext): CheckResult | undefined {
  if (Object.keys(ctx.project.config.sources).length > 0 || ctx.project.config.schedules["data-collection"]) return undefined;
  return notApplicable(
    'no sources configured, so data-collection has nothing to collect and is not scheduled; name sources under "sources" in mlops.config.json and schedule it',
  );
}

async function runSucceeded(ctx: CheckContext, pipeline: string): Promise<CheckResult> {
  const run = await lastRun(ctx, pipeline);
  if (!run) return fail(`${pipeline} has never run: mlops run ${pipeline}`);
  const evidence = `last ${pipeline} run ${run.id} at ${run.started_at.toISOString()}: ${run.status}`;
  return run.status === "succeeded" ? pass(evidence) : fail(`${evidence} (${run.error}): see mlops runs`);
}

export const automationChecks = {
  async pipelinesDefined(ctx: CheckContext): Promise<CheckResult> {
    const names = [...new Set([...Object.keys(BUILT_IN_PIPELINES), ...Object.keys(ctx.project.config.pipelines)])];
    for (const name of names) pipelineStages(ctx.project, name);
    return pass(`pipelines: ${names.map((n) => `${n} (${pipelineStages(ctx.project, n).join(" -> ")})`).join("; ")}`);
  },

  async noPipelineErrors(ctx: CheckContext): Promise<CheckResult> {
    const problems: string[] = [];
    for (const pipeline of Object.keys(ctx.project.config.schedules)) {
      try {
        pipelineStages(ctx.project, pipeline);
        const result = checkSchedule(ctx, pipeline);
        if (!result.ok) problems.push(result.evidence);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    const stuck = await ctx.query<{ id: number; pipeline: string }>(
      "SELECT id, pipeline FROM pipeline_runs WHERE status = 'running' AND started_at < now() - interval '6 hours'",
    );
    for (const run of stuck) problems.push(`run ${run.id} of ${run.pipeline} has been running for over 6 hours`);
    return problems.length === 0 ? pass("every pipeline and schedule is valid; no run is stuck") : fail(problems.join("; "));
  },

  scheduleDataCollection: async (ctx: CheckContext) => noSources(ctx) ?? checkSchedule(ctx, "data-collection"),
  scheduleValidationDeployment: async (ctx: CheckContext) => checkSchedule(ctx, "validation-deployment"),
  dataCollectionRan: async (ctx: CheckContext) => noSources(ctx) ?? runSucceeded(ctx, "data-collection"),
  trainingRunSucceeded: (ctx: CheckContext) => runSucceeded(ctx, "training"),

  async alertsConfigured(ctx: CheckContext): Promise<CheckResult> {
    const alerts = ctx.project.config.alerts;
    const ways = [alerts.webhook && "a webhook", alerts.command && "a command"].filter(Boolean);
    return ways.length > 0
      ? pass(`failed runs alert through ${ways.join(" and ")}`)
      : fail('no failure alerts: set "alerts": { "webhook": "https://..." } or { "command": "..." } in mlops.config.json');
  },

  async trainingTriggerable(ctx: CheckContext): Promise<CheckResult> {
    return pass(`mlops run training runs ${pipelineStages(ctx.project, "training").join(" -> ")} on demand`);
  },

  async failuresRecorded(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ failed: number; retried: number; stuck: number }>(
      `SELECT (SELECT count(*)::int FROM pipeline_runs WHERE status = 'failed') AS failed,
              (SELECT count(*)::int FROM stage_runs WHERE attempt > 1) AS retried,
              (SELECT count(*)::int FROM pipeline_runs WHERE status = 'running' AND started_at < now() - interval '6 hours') AS stuck`,
    );
    const evidence = `failed runs are recorded with their error (${row!.failed} so far), transient failures retried (${row!.retried} retries), killed runs marked failed`;
    return row!.stuck === 0 ? pass(evidence) : fail(`${row!.stuck} runs are stuck as running`);
  },

  async retrainingTriggered(ctx: CheckContext): Promise<CheckResult> {
    const run = await lastRun(ctx, "validation-deployment");
    if (!run) return fail("validation-deployment has never run: mlops run validation-deployment");
    const outputs = run.outputs ?? {};
    const verdict = outputs["evaluate-active"]?.verdict;
    const retrained = outputs["retrain-if-below"] !== undefined;
    if (run.status !== "succeeded") return fail(`last validation-deployment run ${run.id} ${run.status}: ${run.error}`);
    if (verdict === "failed" && !retrained) return fail(`run ${run.id}: the active version failed but no retraining happened`);
    return pass(
      `last validation-deployment run ${run.id}: active version ${verdict ?? "not evaluated"}${retrained ? `, retrained ${outputs["retrain-if-below"]?.version}` : ", no retraining needed"}`,
    );
  },

  async autoDeployment(ctx: CheckContext): Promise<CheckResult> {
    const run = await lastRun(ctx, "validation-deployment");
    const promoted = await ctx.query<{ to: string; at: Date }>(
      "SELECT v.version AS to, p.created_at AS at FROM promotions p JOIN model_versions v ON v.id = p.to_version_id WHERE p.actor = 'mlops pipeline' ORDER BY p.id DESC LIMIT 1",
    );
    if (promoted[0]) return pass(`the pipeline promoted ${promoted[0].to} at ${promoted[0].at.toISOString()}; running servers reloaded it`);
    if (run?.status === "succeeded")
      return pass(`validation-deployment runs (last: run ${run.id}) and promotes a passing candidate when retraining is needed; none was needed yet`);
    return fail("validation-deployment has not run successfully: mlops run validation-deployment (scheduled @daily by mlops scheduler)");
  },

  async pipelineLogs(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ runs: number; stages: number }>(
      "SELECT (SELECT count(*)::int FROM pipeline_runs) AS runs, (SELECT count(*)::int FROM stage_runs) AS stages",
    );
    return pass(
      `${formatCount(Number(row!.runs), "run")} and ${formatCount(Number(row!.stages), "stage attempt")} recorded with status, timings and errors (mlops runs)`,
    );
  },

  async noRecentFailures(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ id: number; pipeline: string; error: string }>(
      "SELECT id, pipeline, error FROM pipeline_runs WHERE status = 'failed' AND started_at > now() - interval '24 hours' ORDER BY id DESC",
    );
    return rows.length === 0
      ? pass("no failed pipeline run in the last 24 hours")
      : fail(
          `failed in the last 24 hours: ${rows
            .slice(0, 3)
            .map((r) => `run ${r.id} ${r.pipeline} (${r.error})`)
            .join("; ")}`,
        );
  },

  async recentRunsHealthy(ctx: CheckContext): Promise<CheckResult> {
    const scheduled = Object.keys(ctx.project.config.schedules);
    if (scheduled.length === 0) return fail("no schedules configured");
    const problems: string[] = [];
    for (const pipeline of scheduled) {
      const run = await lastRun(ctx, pipeline);
      if (!run) problems.push(`${pipeline} never ran`);
      else if (run.status !== "succeeded") problems.push(`${pipeline}: last run ${run.id} failed (${run.error})`);
      else if (Date.now() - run.started_at.getTime() > 2 * 86_400_000)
        problems.push(`${pipeline}: last run ${run.started_at.toISOString()}, over two days ago`);
    }
    return problems.length === 0
      ? pass(`the scheduled pipelines (${scheduled.join(", ")}) ran successfully within two days`)
      : fail(`${problems.join("; ")}: is mlops scheduler running?`);
  },
};
