import type { LayersModel } from "@tensorflow/tfjs";
import path from "node:path";
import type pg from "pg";
import type { Project } from "../config/load.js";
import { readRecord, recordRow } from "../data/sources/formats.js";
import type { Prisma } from "../generated/prisma/client.js";
import { openSource } from "../data/sources/open.js";
import { hash64, hashToDecimal } from "../data/row-hash.js";
import { RowValidator } from "../data/validate.js";
import type { DatabaseSession } from "../db/session.js";
import { loadModelFolder } from "../model/artifacts.js";
import { loadTf, type Tf } from "../model/backend.js";
import { emptyChunk, streamExamples, writeFeatures, type Dataset } from "../model/dataset.js";
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
  /**
   * With a file: how many of its labelled rows are stored examples the version trained on (same
   * row identity as collect's duplicate check; labelled, train or validation split, among the
   * rows its training read), whose scores flatter it. Null for the test split and fresh data,
   * which it never saw.
   */
  seenInTraining: number | null;
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
  const { tf } = await loadTf();
  const gateConfig = project.config.gate;
  const source =
    data.kind === "file"
      ? `file ${data.file}`
      : data.kind === "test-split"
        ? `test split${data.afterBatch === undefined ? "" : ` of batches after ${data.afterBatch}`}`
        : `fresh data (batches after ${version.dataFingerprint.maxBatchId}, feedback)`;

  const seen = { rows: 0 };
  const scored = await scoreVersions(
    tf,
    project,
    evaluationChunks(project, client, version, data, seen),
    version,
    active && active.id !== version.id ? active : null,
  );
  const seenInTraining = data.kind === "file" ? seen.rows : null;
  if (!scored) {
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
      seenInTraining,
    };
  }
  const { metrics, logisticRegression, rows } = scored;
  const baseline: EvaluationResult["baseline"] = scored.active && active ? { version: active.version, metrics: scored.active } : null;

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
      rowCount: rows,
      f1: metrics.f1,
      metrics: JSON.parse(JSON.stringify({ ...metrics, baseline, logisticRegression, seenInTraining })) as Prisma.InputJsonValue,
      passed,
      gate: JSON.parse(JSON.stringify(gate)) as Prisma.InputJsonValue,
    },
    select: { id: true },
  });
  return {
    version: version.version,
    dataSource: data.kind,
    rows,
    metrics,
    baseline,
    logisticRegression,
    delta: baseline ? { f1: metrics.f1 - baseline.metrics.f1 } : null,
    gate,
    evaluationId: stored.id,
    seenInTraining,
  };
}

/** A version's model and manifest, loaded once and applied to every chunk. */
interface Scorer {
  model: LayersModel;
  manifest: Awaited<ReturnType<typeof loadModelFolder>>["manifest"];
  probabilities: Float32Array;
  /** The version's own logistic-regression baseline, when its manifest holds one. */
  baseline: Float32Array | null;
}

/**
 * Scores the version (its files, verified against the checksums the registry stored, and from
 * the weights in its manifest its logistic-regression baseline) and the active version, when it
 * is another, on the same rows, chunk by chunk: memory holds one chunk of raw values and inputs
 * plus 4 bytes a row per score list and 1 per label, where reading every row first held 8 bytes
 * per numeric value per row (800 MB for five million rows of twenty features). Null when there
 * are no rows (no model is loaded then).
 */
async function scoreVersions(tf: Tf, project: Project, chunks: AsyncIterable<Dataset>, version: VersionRow, active: VersionRow | null) {
  const scorers: Scorer[] = [];
  let labels = new Uint8Array(0);
  let rows = 0;
  const open = async (row: VersionRow): Promise<Scorer> => {
    const { model, manifest } = await loadModelFolder(tf, path.resolve(project.root, row.path), row.manifest);
    return { model, manifest, probabilities: new Float32Array(0), baseline: manifest.baseline ? new Float32Array(0) : null };
  };
  try {
    for await (const chunk of chunks) {
      if (chunk.rows === 0) continue;
      if (scorers.length === 0) {
        scorers.push(await open(version));
        if (active) scorers.push(await open(active));
      }
      labels = grownTo(labels, rows + chunk.rows, (n) => new Uint8Array(n));
      for (let i = 0; i < chunk.rows; i += 1) labels[rows + i] = chunk.labels[i] === 1 ? 1 : 0;
      const all = Int32Array.from({ length: chunk.rows }, (_, i) => i);
      for (const scorer of scorers) {
        const dim = scorer.manifest.preprocess.inputDim;
        const x = transformColumns(scorer.manifest.preprocess, chunk);
        scorer.probabilities = grownTo(scorer.probabilities, rows + chunk.rows, (n) => new Float32Array(n));
        scorer.probabilities.set(predict(tf, scorer.model, x, chunk.rows, dim), rows);
        if (scorer.baseline && scorer.manifest.baseline) {
          scorer.baseline = grownTo(scorer.baseline, rows + chunk.rows, (n) => new Float32Array(n));
          scorer.baseline.set(predictLogistic(scorer.manifest.baseline.weights, x, dim, all), rows);
        }
      }
      rows += chunk.rows;
    }
    if (rows === 0) return null;
    const y = labels.subarray(0, rows);
    const [own, other] = scorers as [Scorer, Scorer | undefined];
    const base = own.manifest.baseline;
    return {
      rows,
      metrics: computeMetrics(y, own.probabilities.subarray(0, rows), own.manifest.threshold),
      logisticRegression:
        base && own.baseline
          ? { metrics: computeMetrics(y, own.baseline.subarray(0, rows), base.threshold), kept: own.manifest.selected === "baseline" }
          : null,
      active: other ? computeMetrics(y, other.probabilities.subarray(0, rows), other.manifest.threshold) : null,
    };
  } finally {
    for (const scorer of scorers) scorer.model.dispose();
  }
}

/** Grows a typed array to at least `needed` elements (doubling), keeping its contents. */
function grownTo<T extends Uint8Array | Float32Array>(array: T, needed: number, make: (n: number) => T): T {
  if (needed <= array.length) return array;
  const next = make(Math.max(needed, array.length * 2));
  next.set(array);
  return next;
}

/** Labelled rows for the evaluation, as chunks of columns. */
async function* evaluationChunks(
  project: Project,
  client: pg.ClientBase,
  version: VersionRow,
  data: DataChoice,
  seen: { rows: number },
): AsyncGenerator<Dataset> {
  const config = project.config;
  const chunkRows = config.model.chunkRows;
  if (data.kind === "test-split") {
    yield* streamExamples(
      client,
      config,
      { splits: ["test"], labelledOnly: true, ...(data.afterBatch === undefined ? {} : { afterBatch: data.afterBatch }) },
      chunkRows,
    );
    return;
  }
  if (data.kind === "fresh") {
    yield* streamExamples(client, config, { afterBatch: version.dataFingerprint.maxBatchId, labelledOnly: true }, chunkRows);
    const feedback = await client.query<{ features: Record<string, unknown>; label: number }>(
      `SELECT DISTINCT ON (f.prediction_id) p.features, f.label
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
        WHERE p.created_at > $1 ORDER BY f.prediction_id, f.id DESC`,
      [version.createdAt],
    );
    yield rowsChunk(
      config,
      feedback.rows.map((r) => ({ row: r.features, label: r.label })),
    );
    return;
  }
  const validator = new RowValidator(config);
  const source = await openSource({ kind: "file", path: data.file });
  // A file's rows become columns a chunk at a time too, so a large file is never held as objects.
  // Each chunk's row identities are looked up among the examples the version trained on. The
  // lookups run in the database while the chunks are scored here (the connection is otherwise
  // idle) and are summed at the end. On a 200,000-row file evaluate takes 1.13-1.30x the time it
  // took without the count over four runs (bench/evaluate-file.mjs; 1.24x once with each lookup
  // awaited before its chunk, so the overlap is not a proven gain); hashing the rows is about
  // a third of the extra (0.5 s of 1.7 s).
  const trained = await trainedRows(client, version);
  let rows: Array<{ row: Record<string, unknown>; label: number }> = [];
  let hashes: string[] = [];
  const lookups: Array<Promise<number>> = [];
  const chunk = () => {
    const lookup = countTrainedOn(client, hashes, trained);
    lookup.catch(() => undefined); // awaited below; a failure surfaces there, never as an unhandled rejection
    lookups.push(lookup);
    const out = rowsChunk(config, rows);
    rows = [];
    hashes = [];
    return out;
  };
  for await (const records of source.records) {
    for (const each of records) {
      const record = readRecord(each, source.state);
      if ("error" in record) continue;
      const raw = recordRow(record, source.state.columns);
      const result = validator.validate(raw);
      if (result.ok && result.row.label !== null) {
        rows.push({ row: raw, label: result.row.label });
        hashes.push(hashToDecimal(hash64(result.row.rowKey ?? result.row.featuresJson)));
      }
      if (rows.length === chunkRows) yield chunk();
    }
  }
  yield chunk();
  for (const lookup of lookups) seen.rows += await lookup;
}

/**
 * The examples a version trained on: the labelled train and validation rows of its training
 * batches, and with `train --max-rows N` only the first N rows of those batches in row-hash order
 * (what train read), so only up to the N-th row's hash. Accepted batches do not change, so the
 * stored rows of those batches beyond the fingerprint's count mean a cut.
 */
async function trainedRows(client: pg.ClientBase, version: VersionRow): Promise<{ batches: number[]; upTo: string | null }> {
  const batches = version.dataFingerprint.batches.map((b) => b.id);
  const read = version.dataFingerprint.rows;
  if (batches.length === 0 || read === 0) return { batches, upTo: null };
  const stored = await client.query<{ n: string }>("SELECT count(*) AS n FROM examples WHERE batch_id = ANY($1::int[])", [batches]);
  if (Number(stored.rows[0]!.n) <= read) return { batches, upTo: null };
  const last = await client.query<{ h: string }>(
    "SELECT row_hash::text AS h FROM examples WHERE batch_id = ANY($1::int[]) ORDER BY row_hash OFFSET $2 LIMIT 1",
    [batches, read - 1],
  );
  return { batches, upTo: last.rows[0]?.h ?? null };
}

/** How many of `hashes` (with repeats) are examples the version trained on (trainedRows). */
async function countTrainedOn(client: pg.ClientBase, hashes: string[], trained: { batches: number[]; upTo: string | null }): Promise<number> {
  if (hashes.length === 0 || trained.batches.length === 0) return 0;
  const found = await client.query<{ h: string }>(
    `SELECT DISTINCT row_hash::text AS h FROM examples
      WHERE row_hash = ANY($1::bigint[]) AND batch_id = ANY($2::int[]) AND split <> 'test' AND label IS NOT NULL
        ${trained.upTo === null ? "" : "AND row_hash <= $3::bigint"}`,
    trained.upTo === null ? [hashes, trained.batches] : [hashes, trained.batches, trained.upTo],
  );
  const seen = new Set(found.rows.map((r) => r.h));
  return hashes.reduce((n, h) => n + (seen.has(h) ? 1 : 0), 0);
}

/** Rows given as objects (feedback, a file) as one chunk of columns. */
function rowsChunk(config: Project["config"], rows: Array<{ row: Record<string, unknown>; label: number }>): Dataset {
  const chunk = emptyChunk(config.features, rows.length);
  rows.forEach(({ row, label }, i) => {
    writeFeatures(chunk, config.features, i, row);
    chunk.labels[i] = label;
  });
  chunk.rows = rows.length;
  return chunk;
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
