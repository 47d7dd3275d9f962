import cronParser from "cron-parser";
import PgBoss from "pg-boss";
import type { Project } from "../config/load.js";
import { isConnectionError, unreachableError } from "../db/connection.js";
import { checkedSessionTarget, connectSession } from "../db/pooling.js";
import { withDatabase } from "../db/session.js";
import { isMlopsError, MlopsError, usageError } from "../errors.js";
import { watchForOrphanedRuns, type OrphanedRun } from "./orphaned-runs.js";
import { runPipeline, type RunResult } from "./runner.js";
import { pipelineStages } from "./stages.js";

/** One entry of `schedules` in the config, checked: a known pipeline and a 5-field cron expression in UTC. */
export interface Schedule {
  pipeline: string;
  /** As written in the config, e.g. "@daily". */
  expression: string;
  /** Five fields (minute hour day-of-month month day-of-week), e.g. "0 0 * * *". */
  cron: string;
}

const ALIASES: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

const CRON_HINT =
  'A schedule maps a pipeline to five cron fields in UTC (minute hour day-of-month month day-of-week, e.g. "30 2 * * *" for 02:30 daily) or @hourly, @daily, @weekly, @monthly, @yearly.';

/** Reads and checks every schedule in the config, reporting all problems at once. */
export function readSchedules(project: Project): Schedule[] {
  const schedules: Schedule[] = [];
  const problems: string[] = [];
  for (const [pipeline, expression] of Object.entries(project.config.schedules)) {
    try {
      pipelineStages(project, pipeline);
    } catch (error) {
      if (!isMlopsError(error)) throw error;
      problems.push(`schedules.${pipeline}: ${error.message}${error.hint ? ` ${error.hint}` : ""}`);
      continue;
    }
    const cron = ALIASES[expression.trim().toLowerCase()] ?? expression.trim().split(/\s+/).join(" ");
    const problem = cronProblem(cron);
    if (problem) problems.push(`schedules.${pipeline}: "${expression}" is not a valid schedule: ${problem}.`);
    else schedules.push({ pipeline, expression, cron });
  }
  if (problems.length > 0) {
    const what = problems.length === 1 ? "an invalid schedule" : `${problems.length} invalid schedules`;
    throw usageError("SCHEDULE_INVALID", `${project.configPath} has ${what}:\n${problems.map((p) => `  - ${p}`).join("\n")}`, CRON_HINT, {
      problems,
    });
  }
  if (schedules.length === 0) {
    throw usageError(
      "NO_SCHEDULES",
      `${project.configPath} schedules no pipeline.`,
      `Add "schedules": { "data-collection": "@daily" } to mlops.config.json. ${CRON_HINT}`,
    );
  }
  return schedules;
}

function cronProblem(cron: string): string | undefined {
  // cron-parser also accepts four fields, or six with seconds; a pg-boss schedule ticks by the minute.
  const fields = cron.split(" ").length;
  if (fields !== 5) return `it has ${fields} field${fields === 1 ? "" : "s"}, not 5`;
  try {
    cronParser.parseExpression(cron, { tz: "UTC" });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The most recent tick of `cron` at or before `at`. */
function previousTick(cron: string, at: Date): Date {
  return cronParser
    .parseExpression(cron, { currentDate: new Date(at.getTime() + 1), tz: "UTC" })
    .prev()
    .toDate();
}

/** The first tick of `cron` after `at`. */
function nextTick(cron: string, at: Date): Date {
  return cronParser.parseExpression(cron, { currentDate: at, tz: "UTC" }).next().toDate();
}

/** A pipeline is due when it never ran, or its last run (any trigger) started before the latest tick. */
function isDue(cron: string, lastStartedAt: Date | null, now: Date): boolean {
  return lastStartedAt === null || lastStartedAt < previousTick(cron, now);
}

export interface OnceSummary {
  ran: RunResult[];
  skipped: Array<{ pipeline: string; reason: string }>;
  notDue: Array<{ pipeline: string; next: string }>;
}

/**
 * Runs every scheduled pipeline that is due, one after another, and reports the rest. The
 * database's clock decides, as it stamps every run, so machines with drifting clocks agree. Two
 * of these at once are safe: runPipeline's advisory lock refuses the second run of a pipeline.
 */
export async function runDueSchedules(
  project: Project,
  schedules: Schedule[],
  onStart: (pipeline: string) => void = () => undefined,
): Promise<OnceSummary> {
  const { now, lastRuns } = await withDatabase(project, async ({ client }) => {
    const clock = await client.query<{ now: Date }>("SELECT now() AS now");
    const last = await client.query<{ pipeline: string; last: Date }>(
      "SELECT pipeline, max(started_at) AS last FROM pipeline_runs WHERE pipeline = ANY($1) GROUP BY pipeline",
      [schedules.map((s) => s.pipeline)],
    );
    return { now: clock.rows[0]!.now, lastRuns: new Map(last.rows.map((r) => [r.pipeline, r.last])) };
  });
  const summary: OnceSummary = { ran: [], skipped: [], notDue: [] };
  for (const { pipeline, cron } of schedules) {
    if (!isDue(cron, lastRuns.get(pipeline) ?? null, now)) {
      summary.notDue.push({ pipeline, next: nextTick(cron, now).toISOString() });
      continue;
    }
    onStart(pipeline);
    const outcome = await runScheduledPipeline(project, pipeline);
    if ("skipped" in outcome) summary.skipped.push({ pipeline, reason: outcome.skipped });
    else summary.ran.push(outcome);
  }
  return summary;
}

/** A run, or why it did not start because another run of the pipeline holds its lock. */
async function runScheduledPipeline(project: Project, pipeline: string): Promise<RunResult | { skipped: string }> {
  try {
    return await runPipeline(project, pipeline, "schedule");
  } catch (error) {
    if (isMlopsError(error) && error.code === "PIPELINE_RUNNING") return { skipped: error.message };
    throw error;
  }
}

const queueName = (pipeline: string) => `mlops-pipeline-${pipeline}`;
const QUEUE_PREFIX = queueName("");

/** pg-boss fails a job that runs longer than its expiry; it must stay under 24 hours. */
const RUN_EXPIRY_SECONDS = 23 * 60 * 60;

export interface SchedulerEvents {
  onRun(result: RunResult): void;
  onSkip(pipeline: string, reason: string): void;
  /** The run could not start (e.g. the database is unreachable); the job is marked failed. */
  onFailure(pipeline: string, error: unknown): void;
  /** pg-boss reports its own trouble (a lost connection, a failed poll) as events. */
  onQueueError(error: Error): void;
  /** A run whose process died (another scheduler killed mid-run) was marked failed. */
  onOrphanedRun?(run: OrphanedRun): void;
}

/** pg-boss timing; tests shorten it. */
export type SchedulerTuning = Pick<PgBoss.ConstructorOptions, "cronMonitorIntervalSeconds" | "cronWorkerIntervalSeconds"> & {
  pollingIntervalSeconds?: number;
  /** How often to look for runs whose process died. */
  orphanCheckSeconds?: number;
};

export interface RunningScheduler {
  schedules: Array<{ pipeline: string; cron: string; next: string }>;
  /** Pipelines a previous configuration scheduled that this one does not: their schedules were removed. */
  unscheduled: string[];
  runsInProgress(): number;
  /** Takes no new runs, waits up to `timeoutMs` for running ones, then disconnects. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts pg-boss on the project's database (schema `pgboss`, created on first start) and puts
 * each schedule on it. pg-boss keeps the schedules in the database and, on every tick, one
 * scheduler (whichever wins a timestamp update) sends one job per schedule, deduplicated by
 * schedule name within the minute; any scheduler's worker may take it. Jobs are never retried:
 * runPipeline already retries transient failures, and a refused run waits for the next tick.
 */
export async function startScheduler(
  project: Project,
  schedules: Schedule[],
  events: SchedulerEvents,
  tuning: SchedulerTuning = {},
): Promise<RunningScheduler> {
  const { pollingIntervalSeconds = 2, orphanCheckSeconds = 15, ...timing } = tuning;
  const target = await withDatabase(project, async (session) => session.target);
  // Runs hold their pipeline's advisory lock: refuse a transaction-mode pooler before taking work.
  await checkedSessionTarget(target, "The locks that keep one run of each pipeline at a time");
  // Schedulers starting at once (several workers, a rolling deploy) deadlocked in pg-boss's
  // schema install and queue creation ("deadlock detected", seen in CI with two workers): they
  // take turns setting up, under a session advisory lock released once this one's queues exist.
  const setup = await connectSession(target, "Scheduler set-up", 5000, "mlops scheduler set-up");
  const setupDone = () => setup.end().catch(() => undefined);
  try {
    await setup.query("SELECT pg_advisory_lock(hashtext('mlops scheduler set-up'))");
  } catch (error) {
    await setupDone();
    throw error;
  }
  const boss = new PgBoss({ connectionString: target.url, schema: "pgboss", application_name: "mlops scheduler", max: 4, ...timing });
  boss.on("error", events.onQueueError);
  try {
    await boss.start();
  } catch (error) {
    await setupDone();
    if (isConnectionError(error)) throw unreachableError(target, error);
    if ((error as { code?: string }).code === "42501") {
      throw new MlopsError("SCHEDULER_SCHEMA_DENIED", `pg-boss cannot create its schema "pgboss" in ${target.display}: ${(error as Error).message}`, {
        hint: "Grant the database user CREATE on the database once (GRANT CREATE ON DATABASE ... TO ...), or create the schema pgboss for it.",
        cause: error,
      });
    }
    throw error;
  }
  let inProgress = 0;
  try {
    // Schedules live in the database, shared by every scheduler on it: the config started last wins.
    const wanted = new Set(schedules.map((s) => queueName(s.pipeline)));
    const stale = (await boss.getSchedules()).map((s) => s.name).filter((name) => name.startsWith(QUEUE_PREFIX) && !wanted.has(name));
    for (const name of stale) await boss.unschedule(name);
    for (const { pipeline, cron } of schedules) {
      await boss.createQueue(queueName(pipeline));
      await boss.schedule(queueName(pipeline), cron, { pipeline }, { tz: "UTC", retryLimit: 0, expireInSeconds: RUN_EXPIRY_SECONDS });
      await boss.work(queueName(pipeline), { pollingIntervalSeconds }, async () => {
        inProgress += 1;
        try {
          const outcome = await runScheduledPipeline(project, pipeline);
          if ("skipped" in outcome) {
            events.onSkip(pipeline, outcome.skipped);
            return outcome;
          }
          events.onRun(outcome);
          return { runId: outcome.runId, status: outcome.status };
        } catch (error) {
          events.onFailure(pipeline, error);
          throw error;
        } finally {
          inProgress -= 1;
        }
      });
    }
    await setupDone();
    const orphans = watchForOrphanedRuns(target, orphanCheckSeconds, (run) => events.onOrphanedRun?.(run));
    const now = new Date();
    return {
      schedules: schedules.map(({ pipeline, cron }) => ({ pipeline, cron, next: nextTick(cron, now).toISOString() })),
      unscheduled: stale.map((name) => name.slice(QUEUE_PREFIX.length)),
      runsInProgress: () => inProgress,
      stop: async (timeoutMs = 30_000) => {
        orphans.stop();
        await boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
      },
    };
  } catch (error) {
    await setupDone();
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw error;
  }
}
