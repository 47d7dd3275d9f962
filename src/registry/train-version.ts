import path from "node:path";
import type { Project } from "../config/load.js";
import { DEFAULT_BOOSTED_TREES } from "../config/schema.js";
import type { DatabaseSession } from "../db/session.js";
import { usageError } from "../errors.js";
import { TOOLKIT_VERSION } from "../package-root.js";
import { sweepModelFolders, unknownVersionFolders } from "./sweep.js";
import { registerVersion, reserveVersion } from "./versions.js";
import { publishModelFolder, writeModelFolder, type Manifest } from "../model/artifacts.js";
import { loadTf } from "../model/backend.js";
import { fingerprintOf } from "../model/dataset.js";
import { readTrainingData } from "../model/training-data.js";
import { stateDirOf } from "../db/state-dir.js";
import { checkFeaturesPresent, type MissingFeatures } from "../model/missing-features.js";
import { baselineSection, forwardReference } from "../model/manifest-sections.js";
import { trainModel, type TrainOptions, type TrainProgress, type TrainedModel, type TreeProgress } from "../model/train.js";
import { binnedFeatures } from "../model/preprocess.js";
import { BOOSTING } from "../model/boosting.js";

export interface TrainVersionOptions extends TrainOptions {
  maxRows?: number;
  backend?: string;
  /** Train only on batches after this one (retraining on a new regime after drift). */
  afterBatch?: number;
  /** Train even when stored rows lack a declared feature entirely (it is then all missing). */
  allowMissingFeatures?: boolean;
}

/** F1 by which the baseline must beat the network before `train` points it out. */
const BASELINE_NOTICE_MARGIN = 0.02;

export interface TrainVersionResult {
  version: string;
  path: string;
  backend: string;
  threshold: number;
  selected: TrainedModel["selected"];
  strategy: TrainedModel["strategy"];
  /** Numeric features the preprocessing binned (small data), from the manifest's bin edges. */
  binned: ReturnType<typeof binnedFeatures>;
  /** Small data: the gradient-boosted trees blended with the network, and their weight (null when none). */
  boostedTrees: Manifest["boostedTrees"];
  metrics: TrainedModel["metrics"];
  network: { validationF1: number; testF1: number | null; threshold: number };
  baseline: { kind: "logistic-regression"; validationF1: number; testF1: number | null; threshold: number };
  /** Said when the baseline's validation (or cross-validated) F1 beats the network's by more than BASELINE_NOTICE_MARGIN. */
  baselineNotice: string | null;
  crossValidation: Manifest["crossValidation"];
  rows: TrainedModel["rows"];
  epochs: TrainedModel["epochs"];
  samplesPerSecond: TrainedModel["samplesPerSecond"];
  durationMs: number;
  dataFingerprint: ReturnType<typeof fingerprintOf>;
  missingFeatures: MissingFeatures;
  /** Leftovers of killed trainings that this run cleaned up or finished. */
  swept: { removed: string[]; recovered: string[] };
}

/**
 * Trains a new version end to end: sweeps what killed trainings left, reads the stored examples,
 * trains, writes the files into a hidden folder, registers the version as a candidate, and only
 * then renames the folder into place. A kill before registration leaves a hidden folder (swept
 * next time); a kill between registration and rename leaves a registered version whose complete
 * hidden folder the next `train` renames into place.
 */
export async function trainVersion(
  project: Project,
  session: DatabaseSession,
  options: TrainVersionOptions,
  onProgress?: (p: TrainProgress | TreeProgress | { stage: "loading" | "saving" }) => void,
): Promise<TrainVersionResult> {
  const started = Date.now();
  const modelsDir = path.join(project.root, project.config.model.dir);
  const swept = await sweepModelFolders(session.client, project.root, modelsDir);
  await refuseUnknownFolders(session, modelsDir);
  onProgress?.({ stage: "loading" });
  // Raw values past the first chunk wait in a private scratch file under .mlops/ while training
  // reads them; it is removed when training ends, failed or not.
  const dataset = await readTrainingData(
    session.client,
    project.config,
    {
      ordered: true,
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      ...(options.afterBatch === undefined ? {} : { afterBatch: options.afterBatch }),
    },
    path.join(stateDirOf(project.root), "scratch"),
    project.config.model.chunkRows,
  );
  let trained: TrainedModel;
  let missingFeatures: MissingFeatures;
  let backend: string;
  let tf: Awaited<ReturnType<typeof loadTf>>["tf"];
  try {
    missingFeatures = checkFeaturesPresent(project.config.features, dataset, options.allowMissingFeatures ?? false);
    ({ tf, backend } = await loadTf(options.backend));
    trained = await trainModel(tf, dataset, project.config, options, onProgress);
  } finally {
    await dataset.close();
  }
  onProgress?.({ stage: "saving" });
  // Checked again: another database's training may have written into this folder meanwhile.
  await refuseUnknownFolders(session, modelsDir);
  const { id, version } = await reserveVersion(session.client);
  const dir = path.join(modelsDir, version);
  const dataFingerprint = fingerprintOf(dataset);
  const crossValidation: Manifest["crossValidation"] =
    trained.strategy === "cross-validation"
      ? {
          folds: trained.folds!,
          rows: trained.rows.train + trained.rows.validation,
          network: trained.network.crossValidation!,
          baseline: trained.baseline.crossValidation!,
        }
      : null;
  const boostedTrees: Manifest["boostedTrees"] = trained.treeBlend
    ? { trees: BOOSTING.trees, depth: BOOSTING.depth, blend: trained.treeBlend }
    : null;
  const manifest: Omit<Manifest, "files"> = {
    version,
    createdAt: new Date().toISOString(),
    toolkitVersion: TOOLKIT_VERSION,
    backend,
    seed: options.seed,
    hyperparameters: {
      hidden: options.hidden,
      epochs: options.epochs,
      pretrainEpochs: options.pretrain ? options.pretrainEpochs : 0,
      batchSize: options.batchSize,
      effectiveBatchSize: trained.effectiveBatchSize,
      learningRate: options.learningRate,
      pretrain: options.pretrain,
      select: options.select ?? "network",
      numericBins: options.numericBins,
      boostedTrees: options.boostedTrees ?? DEFAULT_BOOSTED_TREES,
      wideAndDeep: true,
    },
    featureSchema: project.config.features,
    label: project.config.label,
    preprocess: trained.preprocess,
    threshold: trained.threshold,
    selected: trained.selected,
    strategy: trained.strategy,
    metrics: { ...trained.metrics, epochs: trained.epochs, rows: trained.rows },
    network: {
      validationF1: trained.network.validation.f1,
      threshold: trained.network.threshold,
      metrics: { validation: trained.network.validation, test: trained.network.test },
    },
    baseline: baselineSection(trained),
    crossValidation,
    boostedTrees,
    history: trained.history,
    forwardReference: forwardReference(tf, trained.model, trained.preprocess.inputDim, options.seed),
    dataFingerprint,
    profile: dataset.profile,
  };
  const written = await writeModelFolder(tf, trained.model, dir, manifest);
  trained.model.dispose();
  if (trained.baselineModel !== trained.model) trained.baselineModel.dispose();
  await registerVersion(await session.prisma(), {
    id,
    version,
    path: path.relative(project.root, dir),
    manifest: written.manifest as unknown as Record<string, unknown>,
    metrics: written.manifest.metrics as Record<string, unknown>,
    threshold: trained.threshold,
    backend,
    dataFingerprint,
  });
  await publishModelFolder(written.partial, dir);
  const baselineF1 = trained.baseline.validation.f1;
  const networkF1 = trained.network.validation.f1;
  const scoredOn = trained.strategy === "cross-validation" ? "cross-validated" : "validation";
  return {
    version,
    path: dir,
    backend,
    threshold: trained.threshold,
    selected: trained.selected,
    strategy: trained.strategy,
    binned: binnedFeatures(trained.preprocess),
    boostedTrees,
    metrics: trained.metrics,
    network: { validationF1: networkF1, testF1: trained.network.test?.f1 ?? null, threshold: trained.network.threshold },
    baseline: {
      kind: "logistic-regression",
      validationF1: baselineF1,
      testF1: trained.baseline.test?.f1 ?? null,
      threshold: trained.baseline.threshold,
    },
    baselineNotice:
      trained.selected === "network" && baselineF1 > networkF1 + BASELINE_NOTICE_MARGIN
        ? `The logistic-regression baseline beats the network on ${scoredOn} F1 (${baselineF1.toFixed(3)} against ${networkF1.toFixed(3)}): consider --select best (or "select": "best" under "model").`
        : null,
    crossValidation,
    rows: trained.rows,
    epochs: trained.epochs,
    samplesPerSecond: trained.samplesPerSecond,
    durationMs: Date.now() - started,
    dataFingerprint,
    missingFeatures,
    swept,
  };
}

/** Refuses to train when version folders this registry does not know would be written over. */
async function refuseUnknownFolders(session: DatabaseSession, modelsDir: string): Promise<void> {
  const unknown = await unknownVersionFolders(session.client, modelsDir);
  if (unknown.length === 0) return;
  throw usageError(
    "MODELS_DIR_NOT_THIS_REGISTRY",
    `${modelsDir} holds ${unknown.join(", ")}, which this database's registry does not know, and its next versions would take those names.`,
    "They belong to another database (DATABASE_URL changed, or an older backup was restored) or were left by an older mlops release. Move them out of the folder, or set model.dir in mlops.config.json to a folder of its own for this database, then train again.",
    { folders: unknown },
  );
}
