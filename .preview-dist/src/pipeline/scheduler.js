import cronParser from "cron-parser";
import PgBoss from "pg-boss";
import { isConnectionError, unreachableError } from "../db/connection.js";
import { withDatabase } from "../db/session.js";
import { isMlopsError, MlopsError, usageError } from "../errors.js";
import { runPipeline } from "./runner.js";
import { pipelineStages } from "./stages.js";
const ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
};
const CRON_HINT = 'A schedule maps a pipeline to five cron fields in UTC (minute hour day-of-month month day-of-week, e.g. "30 2 * * *" for 02:30 daily) or @hourly, @daily, @weekly, @monthly, @yearly.';
/** Reads and checks every schedule in the config, reporting all problems at once. */
export function readSchedules(project) {
    const schedules = [];
    const problems = [];
    for (const [pipeline, expression] of Object.entries(project.config.schedules)) {
        try {
            pipelineStages(project, pipeline);
        }
        catch (error) {
            if (!isMlopsError(error))
                throw error;
            problems.push(`schedules.${pipeline}: ${error.message}${error.hint ? ` ${error.hint}` : ""}`);
            continue;
        }
        const cron = ALIASES[expression.trim().toLowerCase()] ?? expression.trim().split(/\s+/).join(" ");
        const problem = cronProblem(cron);
        if (problem)
            problems.push(`schedules.${pipeline}: "${expression}" is not a valid schedule: ${problem}.`);
        else
            schedules.push({ pipeline, expression, cron });
    }
    if (problems.length > 0) {
        const what = problems.length === 1 ? "an invalid schedule" : `${problems.length} invalid schedules`;
        throw usageError("SCHEDULE_INVALID", `${project.configPath} has ${what}:\n${problems.map((p) => `  - ${p}`).join("\n")}`, CRON_HINT, { problems });
    }
    if (schedules.length === 0) {
        throw usageError("NO_SCHEDULES", `${project.configPath} schedules no pipeline.`, `Add "schedules": { "data-collection": "@daily" } to mlops.config.json. ${CRON_HINT}`);
    }
    return schedules;
}
function cronProblem(cron) {
    // cron-parser also accepts four fields, or six with seconds; a pg-boss schedule ticks by the minute.
    const fields = cron.split(" ").length;
    if (fields !== 5)
        return `it has ${fields} field${fields === 1 ? "" : "s"}, not 5`;
    try {
        cronParser.parseExpression(cron, { tz: "UTC" });
        return undefined;
    }
    catch (error) {
        return error.message;
    }
}
/** The most recent tick of `cron` at or before `at`. */
export function previousTick(cron, at) {
    return cronParser.parseExpression(cron, { currentDate: new Date(at.getTime() + 1), tz: "UTC" }).prev().toDate();
}
/** The first tick of `cron` after `at`. */
export function nextTick(cron, at) {
    return cronParser.parseExpression(cron, { currentDate: at, tz: "UTC" }).next().toDate();
}
/** A pipeline is due when it never ran, or its last run (any trigger) started before the latest tick. */
export function isDue(cron, lastStartedAt, now) {
    return lastStartedAt === null || lastStartedAt < previousTick(cron, now);
}
/**
 * Runs every scheduled pipeline that is due, one after another, and reports the rest. The
 * database's clock decides, as it stamps every run, so machines with drifting clocks agree. Two
 * of these at once are safe: runPipeline's advisory lock refuses the second run of a pipeline.
 */
export async function runDueSchedules(project, schedules, onStart = () => undefined) {
    const { now, lastRuns } = await withDatabase(project, async ({ client }) => {
        const clock = await client.query("SELECT now() AS now");
        const last = await client.query("SELECT pipeline, max(started_at) AS last FROM pipeline_runs WHERE pipeline = ANY($1) GROUP BY pipeline", [schedules.map((s) => s.pipeline)]);
        return { now: clock.rows[0].now, lastRuns: new Map(last.rows.map((r) => [r.pipeline, r.last])) };
    });
    const summary = { ran: [], skipped: [], notDue: [] };
    for (const { pipeline, cron } of schedules) {
        if (!isDue(cron, lastRuns.get(pipeline) ?? null, now)) {
            summary.notDue.push({ pipeline, next: nextTick(cron, now).toISOString() });
            continue;
        }
        onStart(pipeline);
        const outcome = await runScheduledPipeline(project, pipeline);
        if ("skipped" in outcome)
            summary.skipped.push({ pipeline, reason: outcome.skipped });
        else
            summary.ran.push(outcome);
    }
    return summary;
}
/** A run, or why it did not start because another run of the pipeline holds its lock. */
async function runScheduledPipeline(project, pipeline) {
    try {
        return await runPipeline(project, pipeline, "schedule");
    }
    catch (error) {
        if (isMlopsError(error) && error.code === "PIPELINE_RUNNING")
            return { skipped: error.message };
        throw error;
    }
}
export const queueName = (pipeline) => `mlops-pipeline-${pipeline}`;
const QUEUE_PREFIX = queueName("");
/** pg-boss fails a job that runs longer than its expiry; it must stay under 24 hours. */
const RUN_EXPIRY_SECONDS = 23 * 60 * 60;
/**
 * Starts pg-boss on the project's database (schema `pgboss`, created on first start) and puts
 * each schedule on it. pg-boss keeps the schedules in the database and, on every tick, one
 * scheduler (whichever wins a timestamp update) sends one job per schedule, deduplicated by
 * schedule name within the minute; any scheduler's worker may take it. Jobs are never retried:
 * runPipeline already retries transient failures, and a refused run waits for the next tick.
 */
export async function startScheduler(project, schedules, events, tuning = {}) {
    const { pollingIntervalSeconds = 2, ...timing } = tuning;
    const target = await withDatabase(project, async (session) => session.target);
    const boss = new PgBoss({ connectionString: target.url, schema: "pgboss", application_name: "mlops scheduler", max: 4, ...timing });
    boss.on("error", events.onQueueError);
    try {
        await boss.start();
    }
    catch (error) {
        if (isConnectionError(error))
            throw unreachableError(target, error);
        if (error.code === "42501") {
            throw new MlopsError("SCHEDULER_SCHEMA_DENIED", `pg-boss cannot create its schema "pgboss" in ${target.display}: ${error.message}`, {
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
        for (const name of stale)
            await boss.unschedule(name);
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
                }
                catch (error) {
                    events.onFailure(pipeline, error);
                    throw error;
                }
                finally {
                    inProgress -= 1;
                }
            });
        }
        const now = new Date();
        return {
            schedules: schedules.map(({ pipeline, cron }) => ({ pipeline, cron, next: nextTick(cron, now).toISOString() })),
            unscheduled: stale.map((name) => name.slice(QUEUE_PREFIX.length)),
            runsInProgress: () => inProgress,
            stop: (timeoutMs = 30_000) => boss.stop({ graceful: true, wait: true, timeout: timeoutMs }),
        };
    }
    catch (error) {
        await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
        throw error;
    }
}
//# sourceMappingURL=scheduler.js.map