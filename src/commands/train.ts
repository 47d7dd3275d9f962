import { z } from "zod";
import type { CommandContext } from "./context.js";
import { chalk } from "../terminal/output.js";
import { count, decimal, parseOptions } from "./options.js";
import { openProject } from "../config/load.js";
import { withDatabase } from "../db/session.js";
import { trainVersion, type TrainVersionResult } from "../registry/train-version.js";
import { formatCount, formatNumber } from "../terminal/format.js";

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
  pretrain: z.boolean(),
  trees: z.boolean().optional(),
  maxRows: count(1, 100_000_000).optional(),
  backend: z.enum(["tensorflow", "wasm", "cpu"]).optional(),
  select: z.enum(["network", "best"], { error: "must be network or best" }).optional(),
  allowMissingFeatures: z.boolean().default(false),
});

export async function runTrain(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  const parsed = parseOptions(trainOptions, options);
  const project = openProject(ctx.cwd);
  const defaults = project.config.model;
  const spinner = ctx.out.spinner("Loading training data");
  let stage: string | undefined;
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
          select: parsed.select ?? defaults.select,
          smallDataRows: defaults.smallDataRows,
          folds: defaults.folds,
          numericBins: defaults.numericBins,
          boostedTrees: parsed.trees ?? defaults.boostedTrees,
          allowMissingFeatures: parsed.allowMissingFeatures,
          ...(parsed.maxRows ? { maxRows: parsed.maxRows } : {}),
          ...(parsed.backend ? { backend: parsed.backend } : {}),
        },
        (p) => {
          if (p.stage === "trees") {
            if (p.stage !== stage) spinner.text = "Fitting boosted trees";
            stage = p.stage;
            spinner.progress(
              `Fitting boosted trees: model ${p.model}/${p.models} (${p.models - 1} folds and the refit), ~${Math.round(p.etaMs / 1000)}s left`,
            );
          } else if (!("epoch" in p)) spinner.text = p.stage === "loading" ? "Loading training data" : "Saving the model";
          else {
            const eta = Math.round(p.etaMs / 1000);
            const valF1 = p.valF1 === undefined ? "" : `, validation F1 ${p.valF1.toFixed(3)}`;
            const what =
              p.stage === "pretrain" ? "Pretraining the autoencoder" : p.stage === "baseline" ? "Training the baseline" : "Training the classifier";
            // A new stage is a step of its own, so its first epoch line shows however quick it is.
            if (p.stage !== stage) {
              stage = p.stage;
              spinner.text = what;
            }
            spinner.progress(
              `${what}${p.fold ? ` (fold ${p.fold}/${p.folds})` : ""}: epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toFixed(4)}${valF1}, ~${eta}s left`,
            );
          }
        },
      ),
    );
    spinner.stop();
    // Only when asked for by flag: the default (model.boostedTrees) means "on small data".
    if (parsed.trees === true && result.strategy !== "cross-validation") {
      ctx.out.warn(
        `No boosted trees were fitted: they train on small data only (below model.smallDataRows, ${formatCount(defaults.smallDataRows, "labelled row")}, where training cross-validates); this run held out a validation split.`,
      );
    }
    if (result.missingFeatures.absent.length > 0) {
      ctx.out.warn(
        `No stored row holds ${result.missingFeatures.absent.join(", ")}: trained with ${result.missingFeatures.absent.length === 1 ? "it" : "them"} always missing (--allow-missing-features).`,
      );
    }
    ctx.out.result(result, () => renderTrain(result));
    return 0;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/** The blend of network and trees `train` chose, in one line. */
function blendLine(blend: NonNullable<TrainVersionResult["boostedTrees"]>["blend"]): string {
  const rule = "weight out of fold: the nearest 0.5 within one standard error of the lowest log loss";
  if (blend.weight === 0)
    return `blend       weight 0 on the trees, the plain network served (${rule}: every weight on the trees did worse beyond the noise)`;
  const bias = `${blend.bias < 0 ? "-" : "+"} ${Math.abs(blend.bias).toFixed(2)}`;
  return `blend       weight ${blend.weight.toFixed(1)} on the trees: log odds ${blend.network.toFixed(2)} x network + ${blend.trees.toFixed(2)} x trees ${bias} (${rule}, each score calibrated)`;
}

function renderTrain(result: TrainVersionResult): string {
  const m = result.metrics;
  const f = (value: number | null | undefined) => (value === null || value === undefined ? "-" : value.toFixed(3));
  const cv = result.crossValidation;
  const scored = cv ? `out-of-fold over ${cv.folds} folds` : "validation";
  const spread = (s: { mean: number; std: number } | null) => (s ? `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}` : "-");
  const lines = [
    `${chalk.bold(`version ${result.version}`)} registered as a candidate ${chalk.dim(result.path)}`,
    `backend     ${result.backend} (classifier ${formatNumber(result.samplesPerSecond.classifier)} samples/s${result.samplesPerSecond.pretrain ? `, autoencoder ${formatNumber(result.samplesPerSecond.pretrain)}` : ""})`,
    `rows        ${result.rows.train} train, ${result.rows.validation} validation, ${result.rows.test} test${result.rows.pretrain ? `, ${result.rows.pretrain} for pretraining` : ""}`,
    `strategy    ${cv ? `${cv.folds}-fold cross-validation on ${cv.rows} train + validation rows, refitted on all of them${result.binned.features > 0 ? `; ${formatCount(result.binned.features, "numeric feature")} also in up to ${result.binned.maxBins} bins` : ""}` : "validation split (early stopping and threshold)"}`,
    ...(result.boostedTrees
      ? [
          `trees       ${result.boostedTrees.trees} gradient-boosted trees of depth ${result.boostedTrees.depth}, cross-validated and refitted beside the network`,
          blendLine(result.boostedTrees.blend),
        ]
      : []),
    `epochs      ${result.epochs.pretrain} pretraining, ${result.epochs.classifier} classifier (best ${result.epochs.best})`,
    `threshold   ${result.threshold.toFixed(4)} (best F1, ${scored})`,
    `validation  F1 ${f(m.validation.f1)}  precision ${f(m.validation.precision)}  recall ${f(m.validation.recall)}  ROC AUC ${f(m.validation.rocAuc)}${cv ? " (out of fold)" : ""}`,
    `test        F1 ${f(m.test?.f1)}  precision ${f(m.test?.precision)}  recall ${f(m.test?.recall)}  ROC AUC ${f(m.test?.rocAuc)}`,
  ];
  if (cv)
    lines.push(
      `folds       network F1 ${spread(cv.network.f1)}, ROC AUC ${spread(cv.network.rocAuc)}; baseline F1 ${spread(cv.baseline.f1)}, ROC AUC ${spread(cv.baseline.rocAuc)} (mean ± sd)`,
    );
  const mark = (kind: string) => (result.selected === kind ? " (kept)" : "");
  lines.push(
    `models      network${mark("network")}: ${scored} F1 ${f(result.network.validationF1)}, test F1 ${f(result.network.testF1)}`,
    `            logistic regression${mark("baseline")}: ${scored} F1 ${f(result.baseline.validationF1)}, test F1 ${f(result.baseline.testF1)}`,
  );
  if (result.baselineNotice) lines.push(chalk.yellow(result.baselineNotice));
  if (result.swept.removed.length + result.swept.recovered.length > 0) {
    lines.push(
      chalk.dim(
        `Cleaned up after killed trainings: ${[...result.swept.recovered.map((v) => `${v} finished`), ...result.swept.removed.map((v) => `${v} removed`)].join(", ")}`,
      ),
    );
  }
  lines.push("", `Next: mlops evaluate --model ${result.version} --split test`);
  return lines.join("\n");
}
