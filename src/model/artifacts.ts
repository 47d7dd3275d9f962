import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LayersModel } from "@tensorflow/tfjs";
import { ExitCode, MlopsError } from "../errors.js";
import type { Tf } from "./backend.js";
import type { EpochRecord } from "./fit.js";
import type { PreprocessParams } from "./preprocess.js";

export interface CrossValidationScores {
  epochs: number;
  foldScores: Array<{ fold: number; rows: number; f1: number; rocAuc: number | null }>;
  f1: { mean: number; std: number };
  rocAuc: { mean: number; std: number } | null;
}

export interface BaselineSection {
  kind: "logistic-regression";
  validationF1: number;
  threshold: number;
  metrics: { validation: unknown; test: unknown };
  /** One weight per input and the bias of the single sigmoid unit. */
  weights: { kernel: number[]; bias: number };
}

export const MODEL_FILES = ["model.json", "weights.bin"] as const;

/** Everything needed to serve, audit and reproduce a version, beside its weights. */
export interface Manifest {
  version: string;
  createdAt: string;
  toolkitVersion: string;
  backend: string;
  seed: number;
  hyperparameters: Record<string, unknown>;
  featureSchema: unknown;
  label: unknown;
  preprocess: PreprocessParams;
  threshold: number;
  /** Which candidate the files hold; absent in older manifests (the network). */
  selected?: "network" | "baseline";
  /** "holdout" (validation split) or "cross-validation" (small data). */
  strategy?: "holdout" | "cross-validation";
  metrics: unknown;
  network?: { validationF1: number; threshold: number; metrics: unknown };
  /** The logistic-regression baseline, with its weights so it can be scored without its own files. */
  baseline?: BaselineSection;
  crossValidation?: { folds: number; rows: number; network: CrossValidationScores; baseline: CrossValidationScores } | null;
  /**
   * Small data with trees (model.boostedTrees, on by default): gradient-boosted trees (in
   * `preprocess.trees`) whose score the served network blends in: log odds = blend.network x the
   * network's + blend.trees x the trees' + blend.bias, the two calibrated out of fold and
   * weighted 1 - w and w (blend.weight; a kept baseline ignores the trees). With w = 0 the plain
   * network is served and `preprocess` holds no trees. Null without trees.
   */
  boostedTrees?: { trees: number; depth: number; blend: { weight: number; network: number; trees: number; bias: number } } | null;
  history?: { pretrain: EpochRecord[]; classifier: EpochRecord[] };
  /** Inputs and the outputs tfjs gave for them at training time: the forward pass must agree at load. */
  forwardReference?: { inputs: number[][]; outputs: number[] };
  dataFingerprint: unknown;
  /** The training data's profile: the drift reference while this version is active. */
  profile: unknown;
  /** sha256 of each model file, checked on every load. */
  files: Record<string, string>;
}

const sha256 = (data: Buffer | Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** The hidden folder a version is written into before it is registered and renamed into place. */
export const partialFolderOf = (dir: string, pid = process.pid) => path.join(path.dirname(dir), `.${path.basename(dir)}.partial-${pid}`);

/**
 * Writes model.json, weights.bin and manifest.json (the same layout as tfjs-node's file://
 * handler) into a hidden `.vN.partial-PID` folder beside `dir` and returns the complete
 * manifest. The caller registers the version and only then renames the folder into place
 * (`publishModelFolder`), so a complete `models/vN` is always one the registry knows; a killed
 * training leaves only a hidden folder, which the next `train` sweeps (registry/sweep.ts).
 */
export async function writeModelFolder(
  tf: Tf,
  model: LayersModel,
  dir: string,
  manifest: Omit<Manifest, "files">,
): Promise<{ partial: string; manifest: Manifest }> {
  const partial = partialFolderOf(dir);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true, mode: 0o700 });
  try {
    let files: Record<string, string> = {};
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
        const modelJson = JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
        });
        await writeFile(path.join(partial, "model.json"), modelJson);
        await writeFile(path.join(partial, "weights.bin"), weights);
        files = { "model.json": sha256(modelJson), "weights.bin": sha256(weights) };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const complete: Manifest = { ...manifest, files };
    await writeFile(path.join(partial, "manifest.json"), `${JSON.stringify(complete, null, 2)}\n`);
    return { partial, manifest: complete };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Renames a written folder into place (after registration). */
export async function publishModelFolder(partial: string, dir: string): Promise<void> {
  await rename(partial, dir);
}

/** Writes and publishes in one step, for callers with no registry (tests, tools). */
export async function saveModelFolder(tf: Tf, model: LayersModel, dir: string, manifest: Omit<Manifest, "files">): Promise<Manifest> {
  const written = await writeModelFolder(tf, model, dir, manifest);
  await publishModelFolder(written.partial, dir);
  return written.manifest;
}

export interface ModelFiles {
  manifest: Manifest;
  modelJson: { modelTopology: unknown; weightsManifest: Array<{ weights: unknown[] }> };
  weights: Buffer;
}

const damaged = (code: string, message: string, hint: string) => new MlopsError(code, message, { exitCode: ExitCode.usage, hint });
const RESTORE_HINT = "Restore the model folder from a backup or retrain (`mlops train`); never edit model files by hand.";

/**
 * Reads a version folder and refuses any file whose checksum differs from the manifest's, or,
 * given the manifest the registry stored (`registered`), from the registry's: a file and its
 * checksum rewritten together on disk are still caught. Missing, unreadable or damaged files
 * are a usage error (exit 2) with a hint, never a crash.
 */
export async function readModelFiles(dir: string, registered?: { files?: Record<string, string> } & Record<string, unknown>): Promise<ModelFiles> {
  const manifestPath = path.join(dir, "manifest.json");
  if (!existsSync(manifestPath)) {
    throw damaged(
      "MODEL_FILES_MISSING",
      `No manifest.json in ${dir}.`,
      "The model folder is incomplete or was moved: retrain (`mlops train`) or restore the folder from a backup.",
    );
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
    if (typeof manifest?.files !== "object" || manifest.files === null) throw new Error("no files");
  } catch {
    throw damaged("MODEL_FILES_DAMAGED", `${manifestPath} is not a valid manifest (damaged or edited).`, RESTORE_HINT);
  }
  const expected = registered?.files ?? manifest.files;
  const contents: Record<string, Buffer> = {};
  for (const file of MODEL_FILES) {
    const filePath = path.join(dir, file);
    if (!existsSync(filePath))
      throw damaged("MODEL_FILES_MISSING", `${filePath} is missing.`, "Retrain (`mlops train`) or restore the model folder.");
    contents[file] = await readFile(filePath);
    const actual = sha256(contents[file]!);
    if (actual !== expected[file]) {
      const against = registered ? "the registry" : "manifest.json";
      throw damaged(
        "MODEL_CHECKSUM_MISMATCH",
        `${filePath} does not match its checksum in ${against} (expected ${expected[file]?.slice(0, 12)}…, found ${actual.slice(0, 12)}…): the file was changed or damaged, so it is refused.`,
        RESTORE_HINT,
      );
    }
  }
  if (registered && stableJson(registered) !== stableJson(manifest)) {
    throw damaged(
      "MODEL_CHECKSUM_MISMATCH",
      `${manifestPath} differs from the manifest the registry stored for ${manifest.version ?? "this version"}: the folder was changed, so it is refused.`,
      RESTORE_HINT,
    );
  }
  try {
    const modelJson = JSON.parse(contents["model.json"]!.toString("utf8")) as ModelFiles["modelJson"];
    if (!Array.isArray(modelJson.weightsManifest?.[0]?.weights)) throw new Error("no weights manifest");
    return { manifest, modelJson, weights: contents["weights.bin"]! };
  } catch {
    throw damaged("MODEL_FILES_DAMAGED", `${path.join(dir, "model.json")} is not a valid model description.`, RESTORE_HINT);
  }
}

/** Reads a version folder (see readModelFiles) into a tfjs model. */
export async function loadModelFolder(
  tf: Tf,
  dir: string,
  registered?: Record<string, unknown>,
): Promise<{ model: LayersModel; manifest: Manifest }> {
  const { manifest, modelJson, weights } = await readModelFiles(dir, registered);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology as never,
      weightSpecs: modelJson.weightsManifest[0]!.weights as never,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
  return { model, manifest };
}

/** JSON with object keys sorted, so a manifest read back from jsonb (which reorders keys) compares equal. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
