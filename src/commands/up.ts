import { z } from "zod";
import { openProject } from "../config/load.js";
import { countLabelledRows } from "../data/overview.js";
import { withDatabase } from "../db/session.js";
import { ExitCode } from "../errors.js";
import { STAGES, type StageState, seedSynthetic } from "../pipeline/stages.js";
import { initProject } from "../project/init.js";
import { activeVersion } from "../registry/versions.js";
import { serve } from "../server/serve.js";
import { formatNumber } from "../terminal/format.js";
import { chalk } from "../terminal/output.js";
import type { CommandContext } from "./context.js";
import { count, parseOptions } from "./options.js";

const upOptions = z.object({
  rows: count(100, 10_000_000),
  host: z.string().min(1).optional(),
  port: count(0, 65_535).optional(),
  serve: z.boolean(),
});

interface UpSummary {
  project: string;
  steps: Array<{ step: string; result: string }>;
  activeVersion: string;
  url: string | null;
}

/**
 * Zero to a served model in one command: init, seed when there is no data, train, evaluate and
 * promote when no version is active, then serve. Seeding is `mlops seed`'s code, and training,
 * evaluation and promotion are the pipeline's own stages, so a version made here is trained,
 * judged and promoted exactly as `mlops run training` and validation-deployment would. A second
 * `mlops up` skips what is already done.
 */
export async function runUp(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(upOptions, options);
  const steps: UpSummary["steps"] = [];
  const spinner = ctx.out.spinner("Creating the project");
  let summary: UpSummary;
  try {
    const init = await initProject(ctx.cwd);
    steps.push({
      step: "init",
      result: init.changed ? `project ready (${init.database.embedded ? "embedded PostgreSQL" : "DATABASE_URL"})` : "already in place",
    });
    const project = openProject(ctx.cwd);
    const active = await withDatabase(project, async (session) => {
      const rows = await countLabelledRows(session.client);
      if (rows === 0) {
        spinner.text = `Seeding ${formatNumber(parsed.rows)} synthetic rows`;
        const synthetic = { rows: parsed.rows, seed: project.config.model.seed, drift: 0, unlabeledFraction: 0 };
        const batch = await seedSynthetic(project, session, synthetic);
        steps.push({ step: "seed", result: `${formatNumber(batch.rows.stored)} synthetic rows (batch ${batch.batchId ?? batch.sameAs})` });
      } else steps.push({ step: "seed", result: `skipped: ${formatNumber(rows)} labelled rows already stored` });

      const current = await activeVersion(session.client);
      if (current) {
        steps.push({ step: "train", result: `skipped: ${current.version} is active` });
        return current.version;
      }
      const state: StageState = { progress: (text) => spinner.progress(text) };
      spinner.text = "Training";
      const trained = await STAGES.train(project, session, state);
      steps.push({ step: "train", result: `${state.candidate}: validation F1 ${Number(trained.validationF1).toFixed(3)}` });
      spinner.text = "Evaluating";
      await STAGES["evaluate-candidate"](project, session, state);
      const evaluation = state.evaluations!.candidate!;
      steps.push({
        step: "evaluate",
        result: `${state.candidate}: test F1 ${evaluation.metrics?.f1.toFixed(3) ?? "-"}, gate ${evaluation.gate.verdict}`,
      });
      const promotion = await STAGES["promote-if-passing"](project, session, state);
      if (state.refusal) throw state.refusal;
      steps.push({ step: "promote", result: `${promotion.to} is active` });
      return String(promotion.to);
    });
    summary = { project: init.project, steps, activeVersion: active, url: null };
  } finally {
    spinner.stop();
  }

  if (!parsed.serve) {
    ctx.out.result(summary, () => renderUp(summary));
    return ExitCode.ok;
  }
  const project = openProject(ctx.cwd);
  await serve(project, {
    host: parsed.host ?? project.config.serve.host,
    port: parsed.port ?? project.config.serve.port,
    logPredictions: true,
    onNote: (message) => ctx.out.note(message),
    onReady: ({ url }) => {
      summary.url = url;
      summary.steps.push({ step: "serve", result: url });
      ctx.out.result(summary, () => renderUp(summary));
      ctx.out.note(`Try: curl -s ${url}/health   Stop with Ctrl-C.`);
    },
  });
  return ExitCode.ok;
}

function renderUp(summary: UpSummary): string {
  const lines = [chalk.bold(`mlops up: ${summary.project}`)];
  for (const step of summary.steps) lines.push(`  ${chalk.green("✓")} ${step.step.padEnd(9)} ${step.result}`);
  lines.push(
    "",
    summary.url
      ? `Serving ${summary.activeVersion} at ${chalk.bold(summary.url)} (docs: ${summary.url}/docs)`
      : `${summary.activeVersion} is active. Serve it with: mlops serve`,
  );
  return lines.join("\n");
}
