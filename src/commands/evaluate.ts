import path from "node:path";
import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { ExitCode, usageError } from "../errors.js";
import { validateActiveVersion, type ValidationOutcome } from "../pipeline/validate.js";
import { evaluateVersion, type DataChoice, type EvaluationResult } from "../registry/evaluate.js";
import { activeVersion, findVersion } from "../registry/versions.js";
import { formatNumber } from "../terminal/format.js";

const evaluateOptions = z.object({
  model: z.string().min(1).optional(),
  data: z.string().min(1).optional(),
  split: z.enum(["test"], { error: "only 'test' (the held-out split) can be chosen" }).optional(),
  retrainIfBelow: z.boolean().default(false),
});

export async function runEvaluate(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(evaluateOptions, options);
  if (parsed.data && parsed.split)
    throw usageError("OPTIONS_INVALID", "--data and --split exclude each other.", "Pass one of them, or neither for fresh data.");
  const data: DataChoice = parsed.data
    ? { kind: "file", file: path.resolve(ctx.cwd, parsed.data) }
    : parsed.split
      ? { kind: "test-split" }
      : { kind: "fresh" };
  const project = openProject(ctx.cwd);
  const spinner = ctx.out.spinner("Evaluating");
  try {
    const outcome = await withDatabase(project, async (session): Promise<ValidationOutcome> => {
      // Retraining answers a failing active model only: a failing candidate is simply not promoted.
      const active = parsed.retrainIfBelow ? await activeVersion(session.client) : undefined;
      if (active && (parsed.model === undefined || (await findVersion(session.client, parsed.model)).id === active.id)) {
        return validateActiveVersion(project, session, data, (stage) => {
          if (stage === "retrain-if-below") spinner.text = "Below the gate: training a new candidate";
          if (stage === "evaluate-candidate") spinner.text = "Evaluating the new candidate";
        });
      }
      return { evaluation: await evaluateVersion(project, session, parsed.model, data), retrained: null };
    });
    spinner.stop();
    const result = outcome.retrained ? outcome : outcome.evaluation;
    ctx.out.result(
      result,
      () =>
        renderEvaluation(outcome.evaluation) +
        (outcome.retrained ? `\n\nRetrained: ${outcome.retrained.version}\n${renderEvaluation(outcome.retrained.evaluation)}` : ""),
    );
    const final = outcome.retrained?.evaluation ?? outcome.evaluation;
    return final.gate.passed ? ExitCode.ok : ExitCode.gateFailed;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

function renderEvaluation(result: EvaluationResult): string {
  const lines = [chalk.bold(`${result.version} on ${result.dataSource} (${formatNumber(result.rows)} labelled rows)`)];
  if (result.metrics) {
    const m = result.metrics;
    const base = result.baseline?.metrics;
    const row = (name: string, value: number | null, baseline: number | null | undefined) => {
      const delta =
        value !== null && baseline !== null && baseline !== undefined
          ? ` ${chalk.dim(`(${result.baseline!.version} ${baseline.toFixed(4)}, ${value - baseline >= 0 ? "+" : ""}${(value - baseline).toFixed(4)})`)}`
          : "";
      return `  ${name.padEnd(10)} ${value === null ? "-" : value.toFixed(4)}${delta}`;
    };
    lines.push(
      row("F1", m.f1, base?.f1),
      row("precision", m.precision, base?.precision),
      row("recall", m.recall, base?.recall),
      row("accuracy", m.accuracy, base?.accuracy),
      row("ROC AUC", m.rocAuc, base?.rocAuc),
      row("log loss", m.logLoss, base?.logLoss),
      ...(result.logisticRegression
        ? [
            `  ${"baseline".padEnd(10)} logistic regression F1 ${result.logisticRegression.metrics.f1.toFixed(4)}, ROC AUC ${result.logisticRegression.metrics.rocAuc?.toFixed(4) ?? "-"}${result.logisticRegression.kept ? " (the kept model)" : ""}`,
          ]
        : []),
      `  confusion  tp ${m.confusion.tp}  fp ${m.confusion.fp}  tn ${m.confusion.tn}  fn ${m.confusion.fn}  (threshold ${m.threshold.toFixed(4)}, positive rate ${m.positiveRate.toFixed(3)})`,
    );
  }
  if (result.seenInTraining)
    lines.push(
      chalk.yellow(
        `${formatNumber(result.seenInTraining)} of these ${formatNumber(result.rows)} rows are examples ${result.version} trained on (its train and validation splits): their scores flatter it. Evaluate on rows it has not seen (--split test, or data collected after it).`,
      ),
    );
  lines.push("gate:");
  for (const check of result.gate.checks) lines.push(`  ${check.passed ? chalk.green("pass") : chalk.red("FAIL")} ${check.detail}`);
  const verdict =
    result.gate.verdict === "passed" ? chalk.green("PASSED") : result.gate.verdict === "no-data" ? chalk.yellow("NO DATA") : chalk.red("FAILED");
  lines.push(`verdict: ${verdict}`);
  if (result.gate.verdict === "no-data")
    lines.push(chalk.dim("Collect fresh labelled data (mlops collect), or evaluate on the held-out split with --split test."));
  return lines.join("\n");
}
