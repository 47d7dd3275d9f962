import { z } from "zod";
import type { CommandContext } from "./context.js";
import { count, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";
import { listRuns, runDetail } from "../pipeline/history.js";
import { runPipeline } from "../pipeline/runner.js";
import { renderRun, renderRunDetail, renderRunsTable } from "./render-run.js";

export async function runRun(ctx: CommandContext, _options: Record<string, unknown>, args: string[]): Promise<number> {
  if (!args[0])
    throw usageError(
      "PIPELINE_REQUIRED",
      "run needs a pipeline name.",
      "mlops run data-collection | training | validation-deployment (or one defined in the config)",
    );
  const project = openProject(ctx.cwd);
  const pipeline = args[0];
  const result = await ctx.out.withSpinner(`Running ${pipeline}`, (spinner) =>
    runPipeline(project, pipeline, "manual", {
      onStage: (stage, attempt) => (spinner.text = `${pipeline}: ${stage}${attempt > 1 ? ` (attempt ${attempt})` : ""}`),
    }),
  );
  ctx.out.result(result, () => renderRun(result));
  return result.status === "succeeded" ? ExitCode.ok : ExitCode.failure;
}

export async function runRuns(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(z.object({ pipeline: z.string().min(1).optional(), limit: count(1, 10_000) }), options);
  const project = openProject(ctx.cwd);
  const runs = await withDatabase(project, ({ client }) => listRuns(client, parsed.pipeline, parsed.limit));
  ctx.out.result({ runs }, () => (runs.length === 0 ? "No runs yet: `mlops run <pipeline>`." : renderRunsTable(runs)));
  return 0;
}

export async function runRunsShow(ctx: CommandContext, _options: Record<string, unknown>, args: string[]): Promise<number> {
  const { id } = parseOptions(z.object({ id: count(1, 2 ** 31 - 1) }), { id: args[0] }, { id: "ID" });
  const project = openProject(ctx.cwd);
  const run = await withDatabase(project, ({ client }) => runDetail(client, id));
  ctx.out.result(run, () => renderRunDetail(run));
  return 0;
}
