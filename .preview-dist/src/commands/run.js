import Table from "cli-table3";
import { z } from "zod";
import { chalk } from "../cli/output.js";
import { count, parseOptions } from "../cli/options.js";
import { loadProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";
import { listRuns } from "../pipeline/history.js";
import { runPipeline } from "../pipeline/runner.js";
export async function runRun(ctx, _options, args) {
    if (!args[0])
        throw usageError("PIPELINE_REQUIRED", "run needs a pipeline name.", "mlops run data-collection | training | validation-deployment (or one defined in the config)");
    const project = loadProject(ctx.cwd);
    const spinner = ctx.out.spinner(`Running ${args[0]}`);
    try {
        const result = await runPipeline(project, args[0], "manual", {
            onStage: (stage, attempt) => (spinner.text = `${args[0]}: ${stage}${attempt > 1 ? ` (attempt ${attempt})` : ""}`),
        });
        spinner.stop();
        ctx.out.result(result, () => renderRun(result));
        return result.status === "succeeded" ? ExitCode.ok : ExitCode.failure;
    }
    catch (error) {
        spinner.stop();
        throw error;
    }
}
export function renderRun(result) {
    const mark = { succeeded: chalk.green("ok  "), failed: chalk.red("FAIL"), skipped: chalk.dim("skip") };
    const lines = [`${chalk.bold(`run ${result.runId}`)} ${result.pipeline}: ${result.status === "succeeded" ? chalk.green("succeeded") : chalk.red("failed")} in ${(result.durationMs / 1000).toFixed(1)} s`];
    for (const stage of result.stages) {
        const detail = stage.error ?? (stage.outputs ? JSON.stringify(stage.outputs).slice(0, 160) : "");
        lines.push(`  ${mark[stage.status]} ${stage.stage.padEnd(20)} ${stage.attempts > 1 ? `${stage.attempts} attempts ` : ""}${chalk.dim(detail)}`);
    }
    if (result.note)
        lines.push(`note: ${result.note}`);
    if (result.alerts) {
        if (result.alerts.webhook)
            lines.push(`alert: webhook ${result.alerts.webhook.url} ${result.alerts.webhook.ok ? "sent" : chalk.red("failed")} (${result.alerts.webhook.detail})`);
        if (result.alerts.command)
            lines.push(`alert: command ${result.alerts.command.ok ? "ran" : chalk.red("failed")} (${result.alerts.command.detail})`);
    }
    return lines.join("\n");
}
export async function runRuns(ctx, options) {
    const parsed = parseOptions(z.object({ pipeline: z.string().min(1).optional(), limit: count(1, 10_000).default(20) }), options);
    const project = loadProject(ctx.cwd);
    const runs = await withDatabase(project, ({ client }) => listRuns(client, parsed.pipeline, parsed.limit));
    ctx.out.result({ runs }, () => {
        if (runs.length === 0)
            return "No runs yet: `mlops run <pipeline>`.";
        const table = new Table({ head: ["run", "pipeline", "status", "trigger", "started", "duration", "stages", "error"], style: { head: [], border: [] } });
        for (const run of runs) {
            const status = run.status === "succeeded" ? chalk.green(run.status) : run.status === "failed" ? chalk.red(run.status) : chalk.yellow(run.status);
            table.push([
                run.id, run.pipeline, status, run.trigger, run.startedAt.slice(0, 19).replace("T", " "),
                run.durationMs === null ? "-" : `${(run.durationMs / 1000).toFixed(1)} s`,
                run.stages.map((s) => `${s.stage}${s.attempt > 1 ? `#${s.attempt}` : ""}:${s.status}`).join(" "),
                (run.error ?? "").slice(0, 60),
            ]);
        }
        return table.toString();
    });
    return 0;
}
//# sourceMappingURL=run.js.map