import path from "node:path";
import { ProfileAccumulator } from "../data/profile.js";
import { TOOLKIT_VERSION } from "../package-root.js";
import { registerVersion, reserveVersion } from "../registry/versions.js";
import { saveModelFolder } from "./artifacts.js";
import { loadTf } from "./backend.js";
import { fingerprintOf, loadDataset } from "./dataset.js";
import { trainModel } from "./train.js";
/**
 * Trains a new version end to end: reads the stored examples, trains, writes models/<version>/
 * atomically, and registers the version as a candidate only once its files are complete.
 */
export async function trainVersion(project, session, options, onProgress) {
    const started = Date.now();
    onProgress?.({ stage: "loading" });
    const dataset = await loadDataset(session.client, project.config, {
        ordered: true,
        ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
        ...(options.afterBatch === undefined ? {} : { afterBatch: options.afterBatch }),
    });
    const { tf, backend } = await loadTf(options.backend);
    const trained = await trainModel(tf, dataset, project.config, options, onProgress);
    onProgress?.({ stage: "saving" });
    const { id, version } = await reserveVersion(session.client);
    const dir = path.join(project.root, project.config.model.dir, version);
    const dataFingerprint = fingerprintOf(dataset);
    const manifest = {
        version,
        createdAt: new Date().toISOString(),
        toolkitVersion: TOOLKIT_VERSION,
        backend,
        seed: options.seed,
        hyperparameters: {
            hidden: options.hidden, epochs: options.epochs, pretrainEpochs: options.pretrain ? options.pretrainEpochs : 0,
            batchSize: options.batchSize, effectiveBatchSize: trained.effectiveBatchSize, learningRate: options.learningRate, pretrain: options.pretrain,
        },
        featureSchema: project.config.features,
        label: project.config.label,
        preprocess: trained.preprocess,
        threshold: trained.threshold,
        metrics: { ...trained.metrics, epochs: trained.epochs, rows: trained.rows },
        dataFingerprint,
        profile: trainingProfile(project, dataset),
    };
    const saved = await saveModelFolder(tf, trained.model, dir, manifest);
    trained.model.dispose();
    await registerVersion(await session.prisma(), {
        id,
        version,
        path: path.relative(project.root, dir),
        manifest: saved,
        metrics: saved.metrics,
        threshold: trained.threshold,
        backend,
        dataFingerprint,
    });
    return {
        version,
        path: dir,
        backend,
        threshold: trained.threshold,
        metrics: trained.metrics,
        rows: trained.rows,
        epochs: trained.epochs,
        samplesPerSecond: trained.samplesPerSecond,
        durationMs: Date.now() - started,
        dataFingerprint,
    };
}
/** The training rows' profile, the drift reference of later batches while this version is active. */
function trainingProfile(project, dataset) {
    const features = project.config.features;
    const accumulator = new ProfileAccumulator(features);
    const values = new Array(features.length);
    for (let r = 0; r < dataset.rows; r += 1) {
        features.forEach((f, i) => {
            if (f.type === "numeric") {
                const x = dataset.numeric.get(f.name)[r];
                values[i] = Number.isNaN(x) ? null : x;
            }
            else {
                const index = dataset.categorical.get(f.name)[r];
                values[i] = index < 0 ? null : f.values[index];
            }
        });
        accumulator.add(values);
    }
    return accumulator.profile();
}
//# sourceMappingURL=train-version.js.map