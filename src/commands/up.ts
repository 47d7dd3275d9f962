import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { count, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { ingestBatch } from "../data/ingest.js";
import { openSource } from "../data/sources/open.js";
import { withDatabase } from "../db/session.js";
import { ExitCode } from "../errors.js";
import { trainVersion } from "../registry/train-version.js";
import { initProject } from "../project/init.js";
import { evaluateVersion } from "../registry/evaluate.js";
import { promoteVersion } from "../registry/promote.js";
import { activeVersion } from "../registry/versions.js";
import { serve } from "../server/serve.js";
import { formatNumber } from "../terminal/format.js";

const upOptions = z.object({
  rows: count(100, 10_000_000).default(10_000),
  host: z.string().min(1).optional(),
  port: count(0, 65_535).optional(),
  serve: z.boolean().default(true),
});

interface UpSummary {
  project: string;
  steps: Array<{ step: string; result: string }>;
  activeVersion: string;
  url: string | null;
}

/**
 * Zero to a served model in one command: init, seed when there is no data, train, evaluate and
 * promote when no version is active, then serve. Every step is the same code the individual
 * commands run, and a second `mlops up` skips what is already done.
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
      const { client } = session;
      const rows = Number((await client.query("SELECT count(*) AS n FROM examples WHERE label IS NOT NULL")).rows[0].n);
      if (rows === 0) {
        spinner.text = `Seeding ${formatNumber(parsed.rows)} synthetic rows`;
        const source = await openSource(
          { kind: "synthetic", options: { rows: parsed.rows, seed: project.config.model.seed, drift: 0, unlabeledFraction: 0 } },
          project.config,
        );
        const batch = await ingestBatch(session, project.config, source, { maxInvalid: project.config.collect.maxInvalid, force: false });
        steps.push({ step: "seed", result: `${formatNumber(batch.rows.stored)} synthetic rows (batch ${batch.batchId ?? batch.sameAs})` });
      } else steps.push({ step: "seed", result: `skipped: ${formatNumber(rows)} labelled rows already stored` });

      const current = await activeVersion(client);
      if (current) {
        steps.push({ step: "train", result: `skipped: ${current.version} is active` });
        return current.version;
      }
      spinner.text = "Training";
      const trained = await trainVersion(project, session, { ...project.config.model, pretrain: true }, (p) => {
        if ("epoch" in p) spinner.progress(`Training (${p.stage}): epoch ${p.epoch}/${p.epochs}`);
      });
      steps.push({ step: "train", result: `${trained.version}: validation F1 ${trained.metrics.validation.f1.toFixed(3)}` });
      spinner.text = "Evaluating";
      const evaluation = await evaluateVersion(project, session, trained.version, { kind: "test-split" });
      steps.push({
        step: "evaluate",
        result: `${trained.version}: test F1 ${evaluation.metrics?.f1.toFixed(3) ?? "-"}, gate ${evaluation.gate.verdict}`,
      });
      const promotion = await promoteVersion(client, { version: trained.version, projectRoot: project.root });
      steps.push({ step: "promote", result: `${promotion.to} is active` });
      return promotion.to;
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
