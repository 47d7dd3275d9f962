import path from "node:path";
import type pg from "pg";
import type { Project } from "../config/load.js";
import { ExitCode, MlopsError } from "../errors.js";
import { readModelFiles, type Manifest } from "../model/artifacts.js";
import { denseLayersFromFiles } from "../model/dense-files.js";
import { DenseForward } from "../model/forward.js";
import { findVersion } from "../registry/versions.js";

/** A model ready to answer: its plain forward pass, preprocessing and threshold. */
export interface ServingModel {
  version: string;
  versionId: number;
  manifest: Manifest;
  forward: DenseForward;
  threshold: number;
  loadedAt: string;
}

/** Largest difference allowed between the forward pass and tfjs on the reference rows. */
const MAX_FORWARD_ERROR = 1e-6;

/**
 * Loads a version for serving without tfjs: files checked against the checksums the registry
 * stored, the Dense weights read straight from weights.bin into a WebAssembly forward pass
 * (about 2 µs a row, where a one-row tfjs predict costs about 80), which must reproduce the
 * outputs tfjs gave at training time for the reference rows in the manifest: a mismatch
 * refuses the model. Versions trained before the manifest held reference rows are checked
 * against tfjs itself, loaded only for them.
 */
export async function loadServingModel(project: Project, client: pg.ClientBase, ref: string): Promise<ServingModel> {
  const version = await findVersion(client, ref);
  const files = await readModelFiles(path.resolve(project.root, version.path), version.manifest);
  const { manifest } = files;
  const forward = new DenseForward(denseLayersFromFiles(files));
  const dim = manifest.preprocess.inputDim;
  if (forward.inputs !== dim) {
    throw new MlopsError("MODEL_INCONSISTENT", `${version.version}: the network takes ${forward.inputs} inputs but its preprocessing makes ${dim}.`, {
      exitCode: ExitCode.usage,
      hint: "Retrain the version (`mlops train`).",
    });
  }
  const reference = manifest.forwardReference ?? (await tfjsReference(project, version.path, version.manifest, dim));
  const x = Float32Array.from(reference.inputs.flat());
  const actual = forward.predictBatch(x, reference.outputs.length);
  let worst = 0;
  reference.outputs.forEach((expected, i) => (worst = Math.max(worst, Math.abs(expected - actual[i]!))));
  if (!(worst <= MAX_FORWARD_ERROR)) {
    throw new MlopsError("MODEL_INCONSISTENT", `${version.version}: the forward pass differs from tfjs by ${worst} on the reference rows.`, {
      exitCode: ExitCode.failure,
      hint: "Report this with the model folder.",
    });
  }
  return { version: version.version, versionId: version.id, manifest, forward, threshold: manifest.threshold, loadedAt: new Date().toISOString() };
}

/** For versions without stored reference rows: tfjs's outputs on seeded random rows, computed now. */
async function tfjsReference(project: Project, relative: string, registered: Record<string, unknown>, dim: number) {
  const [{ loadTf }, { loadModelFolder }, { forwardReference }] = await Promise.all([
    import("../model/backend.js"),
    import("../model/artifacts.js"),
    import("../model/manifest-sections.js"),
  ]);
  const { tf } = await loadTf();
  const { model } = await loadModelFolder(tf, path.resolve(project.root, relative), registered);
  try {
    return forwardReference(tf, model, dim, 1);
  } finally {
    model.dispose();
  }
}
