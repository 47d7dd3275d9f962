import { z } from "zod";
import type { CommandContext } from "./context.js";
import { parseOptions } from "./options.js";
import { openProject, type Project } from "../config/load.js";
import { ExitCode } from "../errors.js";
import type { RunResult } from "../pipeline/runner.js";
import { readSchedules, runDueSchedules, startScheduler, type OnceSummary, type Schedule } from "../pipeline/scheduler.js";
import { redactSecrets } from "../redact.js";
import { renderRun } from "./render-run.js";

const schedulerOptions = z.object({ once: z.boolean().default(false) });

/** How long a stop waits for running pipelines: as long as pg-boss lets a job run. */
const STOP_WAIT_MS = 23 * 60 * 60 * 1000;

export async function runScheduler(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const { once } = parseOptions(schedulerOptions, options);
  const project = openProject(ctx.cwd);
  const schedules = readSchedules(project);
  return once ? runOnce(ctx, project, schedules) : runUntilSignalled(ctx, project, schedules);
}

async function runOnce(ctx: CommandContext, project: Project, schedules: Schedule[]): Promise<number> {
  const summary = await runDueSchedules(project, schedules, (pipeline) => ctx.out.note(`Running ${pipeline} (due)`));
  ctx.out.result(summary, () => renderOnce(summary));
  return summary.ran.every((run) => run.status === "succeeded") ? ExitCode.ok : ExitCode.failure;
}

function renderOnce(summary: OnceSummary): string {
  const lines = summary.ran.map(renderRun);
  for (const { pipeline, reason } of summary.skipped) lines.push(`skipped ${pipeline}: ${reason}`);
  if (summary.ran.length === 0 && summary.skipped.length === 0) lines.push("Nothing was due.");
  for (const { pipeline, next } of summary.notDue) lines.push(`not due ${pipeline}: next run ${utc(next)}`);
  return lines.join("\n");
}

/**
 * The long-running scheduler. The first SIGTERM or SIGINT stops taking runs and waits for the
 * running ones; a second one stops at once (the interrupted run is marked failed by the next
 * run of its pipeline).
 */
async function runUntilSignalled(ctx: CommandContext, project: Project, schedules: Schedule[]): Promise<number> {
  let signalled = 0;
  let onSignal: (() => void) | undefined;
  const handle = () => {
    signalled += 1;
    onSignal?.();
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
  try {
    const scheduler = await startScheduler(project, schedules, {
      onRun: (run) => ctx.out.note(`${stamp()} ${describeRun(run)}`),
      onSkip: (pipeline, reason) => ctx.out.note(`${stamp()} ${pipeline}: skipped, ${reason}`),
      onFailure: (pipeline, error) =>
        ctx.out.note(`${stamp()} ${pipeline}: could not run: ${redactSecrets(error instanceof Error ? error.message : String(error))}`),
      onQueueError: queueErrorReporter(ctx),
      onOrphanedRun: (run) =>
        ctx.out.warn(`${stamp()} run ${run.id} ${run.pipeline} marked failed: its process (pid ${run.pid} on ${run.hostname}) died`),
    });
    if (scheduler.unscheduled.length > 0) ctx.out.note(`Unscheduled (no longer in the config): ${scheduler.unscheduled.join(", ")}.`);
    const listed = scheduler.schedules.map(({ pipeline, next }, i) => `${pipeline} ${schedules[i]!.expression} (next ${utc(next)})`);
    ctx.out.note(`Scheduler running, times in UTC: ${listed.join("; ")}. Stop with Ctrl-C or SIGTERM.`);
    ctx.out.result({ schedules: scheduler.schedules }, () => "");

    await new Promise<void>((resolve) => (signalled > 0 ? resolve() : (onSignal = resolve)));
    const running = scheduler.runsInProgress();
    ctx.out.note(
      running > 0
        ? `Stopping: waiting for ${running} running pipeline run${running === 1 ? "" : "s"} to finish (signal again to stop now).`
        : "Stopping.",
    );
    const forced = new Promise<"forced">((resolve) => (onSignal = () => resolve("forced")));
    if ((await Promise.race([scheduler.stop(STOP_WAIT_MS).then(() => "stopped" as const), forced])) === "forced") {
      ctx.out.warn("stopped without waiting; the next run of an interrupted pipeline marks it failed.");
      return ExitCode.failure;
    }
    ctx.out.note("Scheduler stopped.");
    return ExitCode.ok;
  } finally {
    process.off("SIGTERM", handle);
    process.off("SIGINT", handle);
  }
}

function describeRun(run: RunResult): string {
  const head = `run ${run.runId} ${run.pipeline}: ${run.status} in ${(run.durationMs / 1000).toFixed(1)} s`;
  return run.status === "failed" ? `${head}: ${run.error}` : run.note ? `${head} (${run.note})` : head;
}

/** pg-boss repeats an error on every poll while the database is away: say it once a minute. */
function queueErrorReporter(ctx: CommandContext): (error: Error) => void {
  const lastSaid = new Map<string, number>();
  return (error) => {
    const message = redactSecrets(error.message);
    if (Date.now() - (lastSaid.get(message) ?? 0) < 60_000) return;
    if (lastSaid.size > 100) lastSaid.clear();
    lastSaid.set(message, Date.now());
    ctx.out.warn(`pg-boss: ${message}`);
  };
}

const stamp = () => `${new Date().toISOString().slice(0, 19)}Z`;
const utc = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;
