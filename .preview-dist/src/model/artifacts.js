import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExitCode, MlopsError } from "../errors.js";
export const MODEL_FILES = ["model.json", "weights.bin"];
const sha256 = (data) => createHash("sha256").update(data).digest("hex");
/**
 * Writes model.json, weights.bin and manifest.json (the same layout as tfjs-node's file://
 * handler) into a hidden temporary folder and renames it into place, so a version folder is
 * either complete or absent: a killed training leaves only a `.partial` folder, never a
 * half-written version.
 */
export async function saveModelFolder(tf, model, dir, manifest) {
    const partial = path.join(path.dirname(dir), `.${path.basename(dir)}.partial-${process.pid}`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    try {
        let files = {};
        await model.save(tf.io.withSaveHandler(async (artifacts) => {
            const weights = Buffer.from(artifacts.weightData);
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
        }));
        const complete = { ...manifest, files };
        await writeFile(path.join(partial, "manifest.json"), `${JSON.stringify(complete, null, 2)}\n`);
        await rename(partial, dir);
        return complete;
    }
    catch (error) {
        await rm(partial, { recursive: true, force: true });
        throw error;
    }
}
/** Reads a version folder, refusing any file whose checksum differs from the manifest. */
export async function loadModelFolder(tf, dir) {
    const manifestPath = path.join(dir, "manifest.json");
    if (!existsSync(manifestPath)) {
        throw new MlopsError("MODEL_FILES_MISSING", `No manifest.json in ${dir}.`, {
            exitCode: ExitCode.failure,
            hint: "The model folder is incomplete or was moved: retrain (`mlops train`) or restore the folder from a backup.",
        });
    }
    const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
    const contents = {};
    for (const file of MODEL_FILES) {
        const filePath = path.join(dir, file);
        if (!existsSync(filePath)) {
            throw new MlopsError("MODEL_FILES_MISSING", `${filePath} is missing.`, { hint: "Retrain (`mlops train`) or restore the model folder." });
        }
        contents[file] = await readFile(filePath);
        const actual = sha256(contents[file]);
        if (actual !== manifest.files[file]) {
            throw new MlopsError("MODEL_CHECKSUM_MISMATCH", `${filePath} does not match its checksum in manifest.json (expected ${manifest.files[file]?.slice(0, 12)}…, found ${actual.slice(0, 12)}…): the file was changed or damaged, so it is refused.`, {
                hint: "Restore the model folder from a backup or retrain; never edit model files by hand.",
            });
        }
    }
    const modelJson = JSON.parse(contents["model.json"].toString("utf8"));
    const weights = contents["weights.bin"];
    const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }));
    return { model, manifest };
}
//# sourceMappingURL=artifacts.js.map