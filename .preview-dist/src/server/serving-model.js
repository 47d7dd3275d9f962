import path from "node:path";
import { ExitCode, MlopsError } from "../errors.js";
import { loadModelFolder } from "../model/artifacts.js";
import { loadTf } from "../model/backend.js";
import { DenseForward, denseLayersOf } from "../model/forward.js";
import { findVersion } from "../registry/versions.js";
import { seededRandom } from "../model/random.js";
/** Largest difference allowed between the forward pass and tfjs on the warm-up rows. */
const MAX_FORWARD_ERROR = 1e-6;
/**
 * Loads a version for serving: files checked against their checksums, the Dense weights read
 * into a WebAssembly forward pass (about 2 µs a row, where a one-row tfjs predict costs
 * about 80), and warmed up by comparing both on random rows: a mismatch refuses the model.
 */
export async function loadServingModel(project, client, ref) {
    const version = await findVersion(client, ref);
    const { tf } = await loadTf();
    const { model, manifest } = await loadModelFolder(tf, path.resolve(project.root, version.path));
    try {
        const forward = new DenseForward(denseLayersOf(model));
        const dim = manifest.preprocess.inputDim;
        if (forward.inputs !== dim) {
            throw new MlopsError("MODEL_INCONSISTENT", `${version.version}: the network takes ${forward.inputs} inputs but its preprocessing makes ${dim}.`, { hint: "Retrain the version." });
        }
        const rows = 64;
        const random = seededRandom(1);
        const x = Float32Array.from({ length: rows * dim }, () => random() * 4 - 2);
        const expected = tf.tidy(() => Float32Array.from(model.predict(tf.tensor2d(x, [rows, dim])).dataSync()));
        const actual = forward.predictBatch(x, rows);
        let worst = 0;
        for (let i = 0; i < rows; i += 1)
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        if (!(worst <= MAX_FORWARD_ERROR)) {
            throw new MlopsError("MODEL_INCONSISTENT", `${version.version}: the forward pass differs from tfjs by ${worst} on warm-up rows.`, { exitCode: ExitCode.failure, hint: "Report this with the model folder." });
        }
        return { version: version.version, versionId: version.id, manifest, forward, threshold: manifest.threshold, loadedAt: new Date().toISOString() };
    }
    finally {
        model.dispose();
    }
}
//# sourceMappingURL=serving-model.js.map