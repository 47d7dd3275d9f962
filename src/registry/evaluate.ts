import path from "node:path";
import type pg from "pg";
import type { Project } from "../config/load.js";
import { readRecord, recordRow } from "../data/sources/formats.js";
import type { Prisma } from "../generated/prisma/client.js";
import { openSource } from "../data/sources/open.js";
import { RowValidator } from "../data/validate.js";
import type { DatabaseSession } from "../db/session.js";
import { loadModelFolder } from "../model/artifacts.js";
import { loadTf, type Tf } from "../model/backend.js";
import { emptyColumns, loadDataset, writeFeatures, type Dataset } from "../model/dataset.js";
import { computeMetrics, type ClassificationMetrics } from "../model/metrics.js";
import { transformColumns } from "../model/preprocess.js";
import { predict } from "../model/fit.js";
import { predictLogistic } from "../model/logistic.js";
import { activeVersion, findVersion, type VersionRow } from "./versions.js";

/** Fresh data, the held-out test split (optionally only of batches after some batch), or a file. */
export type DataChoice = { kind: "fresh" } | { kind: "test-split"; afterBatch?: number } | { kind: "file"; file: string };

export interface GateCheck {
  name: string;
  passed: boolean;
  value: number | null;
  limit: number | null;
  detail: string;
}

export interface EvaluationResult {
  version: string;
  dataSource: string;
  rows: number;
  metrics: ClassificationMetrics | null;
  baseline: { version: string; metrics: ClassificationMetrics } | null;
  /**
   * The version's own logistic-regression baseline (trained beside it, weights in its manifest)
   * on the same rows at its own threshold; null for versions trained before baselines existed.
   * `kept` says whether the version's files are that baseline (model.select "best").
   */
  logisticRegression: { metrics: ClassificationMetrics; kept: boolean } | null;
  delta: { f1: number } | null;
  gate: { passed: boolean; verdict: "passed" | "failed" | "no-data"; checks: GateCheck[] };
  evaluationId: number | null;
}

/**
 * Evaluates a version on labelled data it has not seen and applies the gate: F1 at least the
 * configured threshold and, when another version is active, not worse than it by more than the
 * configured margin on the same rows. The result is stored as an evaluation.
 */
export async function evaluateVersion(
  project: Project,
  session: DatabaseSession,
  ref: string | undefined,
  data: DataChoice,
): Promise<EvaluationResult> {
  const { client } = session;
  const active = await activeVersion(client);
  const version = await findVersion(client, ref ?? (active ? "active" : "latest"));
  const dataset = await evaluationData(project, client, version, data);
  const { tf } = await loadTf();
  const gateConfig = project.config.gate;
  const source =
    data.kind === "file"
      ? `file ${data.file}`
      : data.kind === "test-split"
        ? `test split${data.afterBatch === undefined ? "" : ` of batches after ${data.afterBatch}`}`
        : `fresh data (batches after ${version.dataFingerprint.maxBatchId}, feedback)`;

  if (dataset.rows === 0) {
    const checks = [{ name: "data", passed: false, value: 0, limit: null, detail: `no labelled rows in ${source}` }];
    return {
      version: version.version,
      dataSource: data.kind,
      rows: 0,
      metrics: null,
      baseline: null,
      logisticRegression: null,
      delta: null,
      gate: { passed: false, verdict: "no-data", checks },
      evaluationId: null,
    };
  }
  const { metrics, logisticRegression } = await scoreVersion(tf, project, version, dataset);
  let baseline: EvaluationResult["baseline"] = null;
  if (active && active.id !== version.id) baseline = { version: active.version, metrics: (await scoreVersion(tf, project, active, dataset)).metrics };

  const checks = gateChecks(
    metrics.f1,
    baseline && { version: baseline.version, f1: baseline.metrics.f1 },
    gateConfig,
    active ? version.version : null,
  );
  const passed = checks.every((c) => c.passed);
  const gate = { passed, verdict: passed ? ("passed" as const) : ("failed" as const), checks };
  const prisma = await session.prisma();
  const stored = await prisma.evaluation.create({
    data: {
      versionId: version.id,
      dataSource: data.kind,
      rowCount: dataset.rows,
      f1: metrics.f1,
      metrics: JSON.parse(JSON.stringify({ ...metrics, baseline, logisticRegression })) as Prisma.InputJsonValue,
      passed,
      gate: JSON.parse(JSON.stringify(gate)) as Prisma.InputJsonValue,
    },
    select: { id: true },
  });
  return {
    version: version.version,
    dataSource: data.kind,
    rows: dataset.rows,
    metrics,
    baseline,
    logisticRegression,
    delta: baseline ? { f1: metrics.f1 - baseline.metrics.f1 } : null,
    gate,
    evaluationId: stored.id,
  };
}

/**
 * Scores a version's files (verified against the checksums the registry stored) and, from the
 * weights in its manifest, its logistic-regression baseline, through the same preprocessing.
 */
async function scoreVersion(tf: Tf, project: Project, version: VersionRow, dataset: Dataset) {
  const { model, manifest } = await loadModelFolder(tf, path.resolve(project.root, version.path), version.manifest);
  try {
    const x = transformColumns(manifest.preprocess, dataset);
    const dim = manifest.preprocess.inputDim;
    const probabilities = predict(tf, model, x, dataset.rows, dim);
    const labels = Uint8Array.from(dataset.labels.subarray(0, dataset.rows));
    const metrics = computeMetrics(labels, probabilities, manifest.threshold);
    const base = manifest.baseline;
    const logisticRegression = base
      ? {
          metrics: computeMetrics(
            labels,
            predictLogistic(
              base.weights,
              x,
              dim,
              Int32Array.from({ length: dataset.rows }, (_, i) => i),
            ),
            base.threshold,
          ),
          kept: manifest.selected === "baseline",
        }
      : null;
    return { metrics, logisticRegression };
  } finally {
    model.dispose();
  }
}

/** Labelled rows for the evaluation, as columns. */
async function evaluationData(project: Project, client: pg.ClientBase, version: VersionRow, data: DataChoice): Promise<Dataset> {
  const config = project.config;
  if (data.kind === "test-split") {
    return loadDataset(client, config, {
      splits: ["test"],
      labelledOnly: true,
      ...(data.afterBatch === undefined ? {} : { afterBatch: data.afterBatch }),
    });
  }
  if (data.kind === "fresh") {
    const fresh = await loadDataset(client, config, { afterBatch: version.dataFingerprint.maxBatchId, labelledOnly: true });
    const feedback = await client.query<{ features: Record<string, unknown>; label: number }>(
      `SELECT DISTINCT ON (f.prediction_id) p.features, f.label
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
        WHERE p.created_at > $1 ORDER BY f.prediction_id, f.id DESC`,
      [version.createdAt],
    );
    return appendRows(
      fresh,
      config,
      feedback.rows.map((r) => ({ row: r.features, label: r.label })),
    );
  }
  const validator = new RowValidator(config);
  const source = await openSource({ kind: "file", path: data.file });
  const rows: Array<{ row: Record<string, unknown>; label: number }> = [];
  for await (const records of source.records) {
    for (const each of records) {
      const record = readRecord(each, source.state);
      if ("error" in record) continue;
      const raw = recordRow(record, source.state.columns);
      const result = validator.validate(raw);
      if (result.ok && result.row.label !== null) rows.push({ row: raw, label: result.row.label });
    }
  }
  return appendRows(await loadDataset(client, config, { maxRows: 0 }), config, rows);
}

/** Adds rows given as objects (feedback, a file) to a column data set. */
function appendRows(base: Dataset, config: Project["config"], rows: Array<{ row: Record<string, unknown>; label: number }>): Dataset {
  if (rows.length === 0) return base;
  const total = base.rows + rows.length;
  const columns = emptyColumns(config.features, total);
  for (const [name, column] of columns.numeric) column.set(base.numeric.get(name)!.subarray(0, base.rows));
  for (const [name, column] of columns.categorical) column.set(base.categorical.get(name)!.subarray(0, base.rows));
  rows.forEach(({ row }, i) => writeFeatures(columns, config.features, base.rows + i, row));
  const labels = new Int8Array(total);
  labels.set(base.labels.subarray(0, base.rows));
  rows.forEach(({ label }, i) => (labels[base.rows + i] = label));
  return { ...columns, labels, splits: new Uint8Array(total), batches: new Int32Array(total) };
}

/**
 * The gate's checks for F1 `f1`: at least the configured threshold and, against the active
 * version's F1 on the same rows (`baseline`), worse by at most the configured margin. With no
 * baseline the comparison passes; `activeIsThis` names the version when it is the active one.
 */
export function gateChecks(
  f1: number,
  baseline: { version: string; f1: number } | null,
  gate: { f1Threshold: number; maxRegression: number },
  activeIsThis: string | null,
): GateCheck[] {
  const checks: GateCheck[] = [
    {
      name: "f1",
      passed: f1 >= gate.f1Threshold,
      value: f1,
      limit: gate.f1Threshold,
      detail: `F1 ${f1.toFixed(4)} ${f1 >= gate.f1Threshold ? ">=" : "<"} ${gate.f1Threshold}`,
    },
  ];
  if (baseline) {
    const floor = baseline.f1 - gate.maxRegression;
    checks.push({
      name: "baseline",
      passed: f1 >= floor,
      value: f1 - baseline.f1,
      limit: -gate.maxRegression,
      detail: `F1 ${f1.toFixed(4)} vs active ${baseline.version} ${baseline.f1.toFixed(4)} (may be worse by at most ${gate.maxRegression})`,
    });
  } else {
    checks.push({
      name: "baseline",
      passed: true,
      value: null,
      limit: null,
      detail: activeIsThis ? `${activeIsThis} is the active version` : "no active version to compare with",
    });
  }
  return checks;
}
