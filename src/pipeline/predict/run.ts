import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Project } from "../../config/load.js";
import type { ReasonCount } from "../../data/batch-summary.js";
import { formatFromName, openSource, type SourceSpec } from "../../data/sources/open.js";
import type { DataFormat } from "../../data/sources/formats.js";
import type { RawRow } from "../../data/types.js";
import type { RowProblem } from "../../data/validate.js";
import type { DatabaseSession } from "../../db/session.js";
import { usageError } from "../../errors.js";
import { loadServingModel } from "../../server/serving-model.js";
import { uuidv7 } from "../../server/uuid7.js";
import { BatchPredictionLog } from "./batch-log.js";
import { RowScorer, type CheckedRow } from "./row-scorer.js";
import { ByteSink } from "./sink.js";
import { checkStoredSelection, readOnlyUrl, storedRowsSpec, type StoredSelection } from "./stored-rows.js";
import { TableWriter, type AddedValue } from "./table-writer.js";

export type PredictSource = SourceSpec | { kind: "stored"; selection: StoredSelection };

export interface PredictOptions {
  source: PredictSource;
  /** A version name, or active, candidate, latest. */
  model: string;
  /** A path, or - for standard output. */
  out: string;
  format?: DataFormat;
  rejects?: string;
  /** Overrides the version's decision threshold. */
  threshold?: number;
  maxInvalid: number;
  log: boolean;
  onProgress?: (progress: { rows: number; bytes: number; totalBytes?: number }) => void;
}

export interface PredictSummary {
  status: "scored" | "too_many_invalid";
  source: string;
  rows: { read: number; scored: number; rejected: number };
  positiveRate: number | null;
  invalidShare: number;
  maxInvalid: number;
  topReasons: ReasonCount[];
  seconds: number;
  output: string;
  format: DataFormat;
  rejects: string | null;
  logged: number;
  model: { version: string; threshold: number; checksum: string; files: Record<string, string> };
}

/**
 * Scores every row of a source with a registered version and writes each with its probability,
 * label and version (`mlops predict`). Streams: rows are read, checked, scored and written a
 * chunk at a time, so memory does not grow with the input. Invalid rows go to the rejects file
 * and never stop the run; the caller turns `too_many_invalid` into exit code 3.
 */
export async function predictRows(session: DatabaseSession, project: Project, options: PredictOptions): Promise<PredictSummary> {
  const started = performance.now();
  const { config } = project;
  for (const target of [options.out, options.rejects]) if (target !== undefined) checkWritable(target);
  const model = await loadServingModel(project, session.client, options.model);
  const threshold = options.threshold ?? model.threshold;
  const scorer = new RowScorer(config, model, options.log);

  let spec: SourceSpec;
  if (options.source.kind === "stored") {
    await checkStoredSelection(session.client, options.source.selection);
    spec = storedRowsSpec(config, options.source.selection, session.target.url);
  } else spec = options.source.kind === "query" ? { ...options.source, fromDb: readOnlyUrl(options.source.fromDb) } : options.source;
  // Begun before the source opens: a source that fails to open leaves nothing half done.
  const log = options.log ? await BatchPredictionLog.begin(session.client, model.versionId) : undefined;
  const source = await openSource(spec, config);
  const inputFormat: DataFormat = spec.kind === "file" ? (spec.format ?? formatFromName(spec.path) ?? "csv") : "csv";
  const format = options.format ?? (options.out === "-" ? inputFormat : formatFromName(options.out)) ?? "csv";
  const rejectsFormat = options.rejects === undefined ? undefined : (formatFromName(options.rejects) ?? "csv");

  const out = ByteSink.open(options.out);
  const rejectsSink = options.rejects === undefined ? undefined : ByteSink.open(options.rejects);
  const columns = () => source.state.columns;
  const addedNames = ["probability", "label", "model_version", ...(log ? ["prediction_id"] : [])];
  let writer: TableWriter | undefined;
  const keyName = config.rowKey ?? "row_key";
  const rejectsWriter = rejectsSink && new TableWriter(rejectsSink, rejectsFormat!, undefined, [], () => ["line", keyName, "reasons", "raw"]);
  const reasons = new Map<string, ReasonCount>();
  const counts = { read: 0, scored: 0, rejected: 0, positive: 0 };
  const { positive, negative } = config.label;

  try {
    for await (const records of source.records) {
      const chunkStarted = performance.now();
      if (writer === undefined) {
        const known = columns();
        if (known !== undefined) scorer.useColumns(known, source.name, source.state.delimiter ?? ",");
        const inputColumns = known ?? (records.find((r) => "row" in r) as { row?: Record<string, unknown> } | undefined)?.row;
        writer = new TableWriter(
          out,
          format,
          source.state.delimiter,
          TableWriter.addedNames(addedNames, Array.isArray(inputColumns) ? inputColumns : Object.keys(inputColumns ?? {})),
          columns,
        );
      }
      const chunkLog: Array<{ id: string; rowKey: string | null; featuresJson: string; probability: number; label: 0 | 1 }> = [];
      for (const record of records) {
        counts.read += 1;
        const checked = scorer.check(record, source.state);
        if (!checked.ok) {
          counts.rejected += 1;
          noteReasons(reasons, checked.problems);
          if (rejectsWriter) rejectsRow(rejectsWriter, rejectsFormat!, keyName, checked);
          continue;
        }
        const probability = scorer.probability(checked.values);
        const isPositive = probability >= threshold;
        if (isPositive) counts.positive += 1;
        counts.scored += 1;
        const added: AddedValue[] = [probability, isPositive ? positive : negative, model.version];
        if (log) {
          const id = uuidv7();
          added.push(id);
          chunkLog.push({ id, rowKey: checked.rowKey, featuresJson: checked.featuresJson!, probability, label: isPositive ? 1 : 0 });
        }
        writer.write(checked.input, added);
      }
      if (log && chunkLog.length > 0) {
        // Each row's latency is its share of the chunk's time: what scoring it cost.
        const latencyMs = (performance.now() - chunkStarted) / records.length;
        for (const row of chunkLog) await log.add({ ...row, latencyMs });
      }
      await out.maybeFlush();
      await rejectsSink?.maybeFlush();
      options.onProgress?.({ rows: counts.read, bytes: source.progress.bytes, totalBytes: source.progress.totalBytes });
    }
    (writer ?? new TableWriter(out, format, source.state.delimiter, addedNames, columns)).finish();
    rejectsWriter?.finish();
    await out.commit();
    await rejectsSink?.commit();
    await log?.commit();
  } catch (error) {
    await out.abandon();
    await rejectsSink?.abandon();
    await log?.rollback();
    throw error;
  }

  const invalidShare = counts.read === 0 ? 0 : counts.rejected / counts.read;
  return {
    status: invalidShare > options.maxInvalid ? "too_many_invalid" : "scored",
    source: source.name,
    rows: { read: counts.read, scored: counts.scored, rejected: counts.rejected },
    positiveRate: counts.scored === 0 ? null : counts.positive / counts.scored,
    invalidShare,
    maxInvalid: options.maxInvalid,
    topReasons: [...reasons.values()].sort((a, b) => b.count - a.count).slice(0, 10),
    seconds: (performance.now() - started) / 1000,
    output: options.out === "-" ? "-" : path.resolve(options.out),
    format,
    rejects: options.rejects === undefined ? null : path.resolve(options.rejects),
    logged: log?.rows ?? 0,
    model: { version: model.version, threshold, checksum: model.manifest.files["weights.bin"] ?? "", files: model.manifest.files },
  };
}

/** A rejected row: its line, key, reasons per field (text in CSV, objects in JSON) and what was received. */
function rejectsRow(writer: TableWriter, format: DataFormat, keyName: string, rejected: Extract<CheckedRow, { ok: false }>): void {
  const tabular = format === "csv" || format === "tsv";
  const reasons = tabular ? rejected.problems.map((p) => `${p.field ?? "(row)"}: ${p.problem}`).join("; ") : rejected.problems;
  const raw = tabular && typeof rejected.raw === "object" && rejected.raw !== null ? JSON.stringify(rejected.raw) : rejected.raw;
  writer.write({ line: rejected.line, row: { line: rejected.line, [keyName]: rejected.rowKey, reasons, raw } as RawRow }, []);
}

function noteReasons(reasons: Map<string, ReasonCount>, problems: RowProblem[]): void {
  for (const problem of problems) {
    const key = `${problem.code}\u0000${problem.field ?? ""}`;
    const entry = reasons.get(key);
    if (entry) entry.count += 1;
    else reasons.set(key, { field: problem.field, code: problem.code, count: 1, example: problem.problem });
  }
}

function checkWritable(target: string): void {
  if (target === "-") return;
  const dir = path.dirname(path.resolve(target));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw usageError(
      "OUTPUT_FOLDER_MISSING",
      `No folder ${dir} to write ${path.basename(target)} into.`,
      "Create the folder first, or choose another path.",
    );
}
