import path from "node:path";
import { loadModelFolder } from "../model/artifacts.js";
import { loadTf } from "../model/backend.js";
import { loadDataset } from "../model/dataset.js";
import { DenseForward, denseLayersOf } from "../model/forward.js";
import { transformColumns } from "../model/preprocess.js";
import { findVersion } from "../registry/versions.js";
import { curvesOf } from "./curves.js";
import { scoresOf } from "./lineage.js";
/**
 * Test rows scored for the curves: a stable subset (row-hash order) of the version's own test
 * split. 20,000 rows put a point every 0.5% on the curves and take a fraction of a second.
 */
const CURVE_ROWS = 20_000;
/** Curves do not change while the version and its test rows do not: scored once per process. */
const curveCache = new Map();
/**
 * The detail of one version: its test confusion matrix and scores (from the manifest), ROC,
 * precision-recall and calibration curves from scoring its test split with the served forward
 * pass, per-epoch training history, baseline and cross-validation where the manifest has them.
 */
export async function readVersionDetail(project, client, ref, activeId) {
    const version = await findVersion(client, ref);
    const manifest = version.manifest;
    const metrics = (manifest.metrics ?? {});
    const test = scoresOf(metrics.test);
    const confusion = metrics.test?.confusion;
    const { curves, note } = await scoredCurves(project, client, version);
    const history = manifest.history;
    const baseline = manifest.baseline;
    return {
        version: version.version,
        active: version.id === activeId,
        threshold: version.threshold,
        createdAt: version.createdAt,
        test: test && confusion ? { ...test, confusion } : null,
        curves,
        curvesNote: note,
        history: history && (history.pretrain?.length || history.classifier?.length) ? { pretrain: history.pretrain ?? [], classifier: history.classifier ?? [] } : null,
        baseline: baseline ? { kind: String(baseline.kind ?? "baseline"), validationF1: typeof baseline.validationF1 === "number" ? baseline.validationF1 : null, metrics: baseline.metrics ?? {} } : null,
        crossValidation: manifest.crossValidation ?? null,
    };
}
async function scoredCurves(project, client, version) {
    const batches = new Set((version.dataFingerprint?.batches ?? []).map((b) => b.id));
    const count = await client.query("SELECT count(*) AS n FROM examples WHERE split = 'test' AND label IS NOT NULL AND batch_id = ANY($1)", [[...batches]]);
    const key = `${version.version}:${count.rows[0]?.n}`;
    const cached = curveCache.get(version.version);
    if (cached?.key === key)
        return cached;
    let result;
    try {
        result = await scoreTestSplit(project, client, version, batches);
    }
    catch (error) {
        // A missing or damaged model folder costs the curves, not the report.
        result = { curves: null, note: `the curves need the model files, which could not be loaded: ${error.message}` };
    }
    curveCache.set(version.version, { key, ...result });
    return result;
}
async function scoreTestSplit(project, client, version, batches) {
    const dataset = await loadDataset(client, project.config, { splits: ["test"], labelledOnly: true, maxRows: CURVE_ROWS });
    const keep = [];
    for (let i = 0; i < dataset.rows; i += 1)
        if (batches.has(dataset.batches[i]))
            keep.push(i);
    if (keep.length === 0)
        return { curves: null, note: "no labelled rows of this version's test split are stored" };
    // Scored with the forward pass the server answers with (its files checked against their
    // checksums on load), so the curves describe the served model.
    const { tf } = await loadTf();
    const { model, manifest } = await loadModelFolder(tf, path.resolve(project.root, version.path));
    let all;
    try {
        all = new DenseForward(denseLayersOf(model)).predictBatch(transformColumns(manifest.preprocess, dataset), dataset.rows);
    }
    finally {
        model.dispose();
    }
    const labels = Uint8Array.from(keep, (i) => dataset.labels[i]);
    const probabilities = Float32Array.from(keep, (i) => all[i]);
    return { curves: curvesOf(labels, probabilities, version.threshold), note: null };
}
//# sourceMappingURL=version-detail.js.map