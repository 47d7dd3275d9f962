import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LayersModel } from "@tensorflow/tfjs";
import { ExitCode, MlopsError } from "../errors.js";
import type { Tf } from "./backend.js";
import type { PreprocessParams } from "./preprocess.js";

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
  metrics: unknown;
  dataFingerprint: unknown;
  /** The training data's profile: the drift reference while this version is active. */
  profile: unknown;
  /** sha256 of each model file, checked on every load. */
  files: Record<string, string>;
}

const sha256 = (data: Buffer | Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/**
 * Writes model.json, weights.bin and manifest.json (the same layout as tfjs-node's file://
 * handler) into a hidden temporary folder and renames it into place, so a version folder is
 * either complete or absent: a killed training leaves only a `.partial` folder, never a
 * half-written version.
 */
export async function saveModelFolder(tf: Tf, model: LayersModel, dir: string, manifest: Omit<Manifest, "files">): Promise<Manifest> {
  const partial = path.join(path.dirname(dir), `.${path.basename(dir)}.partial-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
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
    await rename(partial, dir);
    return complete;
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Reads a version folder, refusing any file whose checksum differs from the manifest. */
export async function loadModelFolder(tf: Tf, dir: string): Promise<{ model: LayersModel; manifest: Manifest }> {
  const manifestPath = path.join(dir, "manifest.json");
  if (!existsSync(manifestPath)) {
    throw new MlopsError("MODEL_FILES_MISSING", `No manifest.json in ${dir}.`, {
      exitCode: ExitCode.failure,
      hint: "The model folder is incomplete or was moved: retrain (`mlops train`) or restore the folder from a backup.",
    });
  }
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
  const contents: Record<string, Buffer> = {};
  for (const file of MODEL_FILES) {
    const filePath = path.join(dir, file);
    if (!existsSync(filePath)) {
      throw new MlopsError("MODEL_FILES_MISSING", `${filePath} is missing.`, { hint: "Retrain (`mlops train`) or restore the model folder." });
    }
    contents[file] = await readFile(filePath);
    const actual = sha256(contents[file]!);
    if (actual !== manifest.files[file]) {
      throw new MlopsError("MODEL_CHECKSUM_MISMATCH", `${filePath} does not match its checksum in manifest.json (expected ${manifest.files[file]?.slice(0, 12)}…, found ${actual.slice(0, 12)}…): the file was changed or damaged, so it is refused.`, {
        hint: "Restore the model folder from a backup or retrain; never edit model files by hand.",
      });
    }
  }
  const modelJson = JSON.parse(contents["model.json"]!.toString("utf8"));
  const weights = contents["weights.bin"]!;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  return { model, manifest };
}
