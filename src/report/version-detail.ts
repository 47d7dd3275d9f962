import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { writeFileAtomically } from "../output-file.js";
import path from "node:path";
import type pg from "pg";
import type { Project } from "../config/load.js";
import { loadModelFolder } from "../model/artifacts.js";
import { loadTf } from "../model/backend.js";
import { loadDataset } from "../model/dataset.js";
import { DenseForward, denseLayersOf } from "../model/forward.js";
import { transformColumns } from "../model/preprocess.js";
import { findVersion, type VersionRow } from "../registry/versions.js";
import { curvesOf } from "./curves.js";
import type { ExampleCounts } from "./example-counts.js";
import { scoresOf } from "./lineage.js";
import type { VersionDetail } from "./types.js";

/**
 * Test rows scored for the curves: a stable subset (row-hash order) of the version's own test
 * split. 20,000 rows put a point every 0.5% on the curves and take a fraction of a second.
 */
const CURVE_ROWS = 20_000;

type Scored = { curves: VersionDetail["curves"]; note: string | null };

/**
 * Curves do not change while the version's weights and its test rows do not, so they are kept in
 * memory (for /dashboard) and under .mlops/report-cache/ (for the next `mlops report`): loading
 * tfjs to read the weights costs about 1 s on an idle machine, more than every query of the
 * report together.
 */
const curveCache = new Map<string, Scored>();

/**
 * The detail of one version: its test confusion matrix and scores (from the manifest), ROC,
 * precision-recall and calibration curves from scoring its test split with the served forward
 * pass, per-epoch training history, baseline and cross-validation where the manifest has them.
 */
export async function readVersionDetail(
  project: Project,
  client: pg.ClientBase,
  ref: string,
  activeId: number | null,
  counts: ExampleCounts,
): Promise<VersionDetail> {
  const version = await findVersion(client, ref);
  const manifest = version.manifest as Record<string, unknown>;
  const metrics = (manifest.metrics ?? {}) as Record<string, unknown>;
  const test = scoresOf(metrics.test);
  const confusion = (metrics.test as { confusion?: { tp: number; fp: number; tn: number; fn: number } } | null)?.confusion;
  const { curves, note } = await scoredCurves(project, client, version, counts);
  const history = manifest.history as VersionDetail["history"] | undefined;
  const baseline = manifest.baseline as { kind?: string; validationF1?: number; metrics?: Record<string, unknown> } | undefined;
  return {
    version: version.version,
    active: version.id === activeId,
    threshold: version.threshold,
    createdAt: version.createdAt,
    test: test && confusion ? { ...test, confusion } : null,
    curves,
    curvesNote: note,
    history:
      history && (history.pretrain?.length || history.classifier?.length)
        ? { pretrain: history.pretrain ?? [], classifier: history.classifier ?? [] }
        : null,
    baseline: baseline
      ? {
          kind: String(baseline.kind ?? "baseline"),
          validationF1: typeof baseline.validationF1 === "number" ? baseline.validationF1 : null,
          metrics: baseline.metrics ?? {},
        }
      : null,
    crossValidation: (manifest.crossValidation as Record<string, unknown> | undefined) ?? null,
  };
}

async function scoredCurves(project: Project, client: pg.ClientBase, version: VersionRow, counts: ExampleCounts): Promise<Scored> {
  const batches = new Set((version.dataFingerprint?.batches ?? []).map((b) => b.id));
  const testRows = counts.rows.filter((r) => r.split === "test" && batches.has(r.batchId)).reduce((sum, r) => sum + r.labelled, 0);
  const weights = (version.manifest.files as Record<string, string> | undefined)?.["weights.bin"] ?? "";
  const key = createHash("sha256").update(`${version.version}:${weights}:${testRows}:${CURVE_ROWS}`).digest("hex").slice(0, 16);
  const cached = curveCache.get(key);
  if (cached) return cached;
  const dir = path.join(project.root, ".mlops", "report-cache");
  const file = path.join(dir, `curves-${version.version}-${key}.json`);
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as Scored;
    curveCache.set(key, stored);
    return stored;
  } catch {
    // Not scored yet (or unreadable): score now.
  }
  let result: Scored;
  try {
    result = await scoreTestSplit(project, client, version, batches);
  } catch (error) {
    // A missing or damaged model folder costs the curves, not the report.
    return { curves: null, note: `the curves need the model files, which could not be loaded: ${(error as Error).message}` };
  }
  curveCache.set(key, result);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomically(file, JSON.stringify(result));
  return result;
}

async function scoreTestSplit(
  project: Project,
  client: pg.ClientBase,
  version: VersionRow,
  batches: Set<number>,
): Promise<{ curves: VersionDetail["curves"]; note: string | null }> {
  const dataset = await loadDataset(client, project.config, { splits: ["test"], labelledOnly: true, maxRows: CURVE_ROWS });
  const keep: number[] = [];
  for (let i = 0; i < dataset.rows; i += 1) if (batches.has(dataset.batches[i]!)) keep.push(i);
  if (keep.length === 0) return { curves: null, note: "no labelled rows of this version's test split are stored" };
  // Scored with the forward pass the server answers with (its files checked against their
  // checksums on load), so the curves describe the served model.
  const { tf } = await loadTf();
  const { model, manifest } = await loadModelFolder(tf, path.resolve(project.root, version.path));
  let all: Float32Array;
  try {
    all = new DenseForward(denseLayersOf(model)).predictBatch(transformColumns(manifest.preprocess, dataset), dataset.rows);
  } finally {
    model.dispose();
  }
  const labels = Uint8Array.from(keep, (i) => dataset.labels[i]!);
  const probabilities = Float32Array.from(keep, (i) => all[i]!);
  return { curves: curvesOf(labels, probabilities, version.threshold), note: null };
}
