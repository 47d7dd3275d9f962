import { z } from "zod";
import type { CommandContext } from "../cli/context.js";
import { chalk } from "../cli/output.js";
import { count, decimal, parseOptions } from "../cli/options.js";
import { loadProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { trainVersion, type TrainVersionResult } from "../model/train-version.js";
import { formatNumber } from "../cli/format.js";

const hiddenList = z.preprocess(
  (value) => (typeof value === "string" ? value.split(",").map((part) => Number(part.trim())) : value),
  z.array(z.number({ error: "must be numbers like 64,32" }).int().min(1).max(4096)).min(1),
);

const trainOptions = z.object({
  epochs: count(1, 10_000).optional(),
  pretrainEpochs: count(0, 10_000).optional(),
  batchSize: count(1, 65_536).optional(),
  learningRate: decimal(1e-6, 1).optional(),
  hidden: hiddenList.optional(),
  seed: count(0, 4_294_967_295).optional(),
  pretrain: z.boolean().default(true),
  maxRows: count(1, 100_000_000).optional(),
  backend: z.enum(["tensorflow", "wasm", "cpu"]).optional(),
});

export async function runTrain(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(trainOptions, options);
  const project = loadProject(ctx.cwd);
  const defaults = project.config.model;
  const spinner = ctx.out.spinner("Loading training data");
  try {
    const result = await withDatabase(project, (session) =>
      trainVersion(
        project,
        session,
        {
          epochs: parsed.epochs ?? defaults.epochs,
          pretrainEpochs: parsed.pretrainEpochs ?? defaults.pretrainEpochs,
          batchSize: parsed.batchSize ?? defaults.batchSize,
          learningRate: parsed.learningRate ?? defaults.learningRate,
          hidden: parsed.hidden ?? defaults.hidden,
          seed: parsed.seed ?? defaults.seed,
          pretrain: parsed.pretrain,
          ...(parsed.maxRows ? { maxRows: parsed.maxRows } : {}),
          ...(parsed.backend ? { backend: parsed.backend } : {}),
        },
        (p) => {
          if (!("epoch" in p)) spinner.text = p.stage === "loading" ? "Loading training data" : "Saving the model";
          else {
            const eta = Math.round(p.etaMs / 1000);
            const valF1 = p.valF1 === undefined ? "" : `, validation F1 ${p.valF1.toFixed(3)}`;
            spinner.progress(`${p.stage === "pretrain" ? "Pretraining the autoencoder" : "Training the classifier"}: epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toFixed(4)}${valF1}, ~${eta}s left`);
          }
        },
      ),
    );
    spinner.stop();
    ctx.out.result(result, () => renderTrain(result));
    return 0;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

function renderTrain(result: TrainVersionResult): string {
  const m = result.metrics;
  const f = (value: number | null | undefined) => (value === null || value === undefined ? "-" : value.toFixed(3));
  return [
    `${chalk.bold(`version ${result.version}`)} registered as a candidate ${chalk.dim(result.path)}`,
    `backend     ${result.backend} (classifier ${formatNumber(result.samplesPerSecond.classifier)} samples/s${result.samplesPerSecond.pretrain ? `, autoencoder ${formatNumber(result.samplesPerSecond.pretrain)}` : ""})`,
    `rows        ${result.rows.train} train, ${result.rows.validation} validation, ${result.rows.test} test${result.rows.pretrain ? `, ${result.rows.pretrain} for pretraining` : ""}`,
    `epochs      ${result.epochs.pretrain} pretraining, ${result.epochs.classifier} classifier (best ${result.epochs.best})`,
    `threshold   ${result.threshold.toFixed(4)} (best F1 on validation)`,
    `validation  F1 ${f(m.validation.f1)}  precision ${f(m.validation.precision)}  recall ${f(m.validation.recall)}  ROC AUC ${f(m.validation.rocAuc)}`,
    `test        F1 ${f(m.test?.f1)}  precision ${f(m.test?.precision)}  recall ${f(m.test?.recall)}  ROC AUC ${f(m.test?.rocAuc)}`,
    "",
    // The test split is held out of training, so it is the data this version can be evaluated on
    // right away; "fresh" data exists only after the next collect.
    `Next: mlops evaluate --model ${result.version} --split test`,
  ].join("\n");
}
