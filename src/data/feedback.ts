import path from "node:path";
import type pg from "pg";
import type { MlopsConfig } from "../config/schema.js";
import { copyRowsIn, type CopyValue } from "../db/copy.js";
import { withTransaction } from "../db/transaction.js";
import { usageError } from "../errors.js";
import { formatFromName, openSource } from "./sources/open.js";
import { readRecord, recordRow } from "./sources/formats.js";
import { presentText } from "./values.js";
import type { ReasonCount } from "./ingest.js";

export interface FeedbackSummary {
  /** "skipped": the same file (same checksum) was collected before, and nothing changed. */
  status: "accepted" | "skipped";
  batchId: number | null;
  /** For a skipped file: the feedback batch that holds it. */
  sameAs: number | null;
  source: string;
  checksum: string;
  read: number;
  attached: number;
  /** Labels a prediction already had (from an overlapping file): not stored twice. */
  alreadyAttached: number;
  quarantined: number;
  topReasons: ReasonCount[];
}

/** Same as ingest's lock: a checksum check must see every committed batch. */
const INGEST_LOCK = 0x6d6c6f70;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Attaches late ground-truth labels to logged predictions (`collect --feedback FILE`): rows of
 * `prediction_id` and the label column. Labelled predictions become fresh data for evaluation.
 * Unknown ids and bad labels are quarantined with their reason; the whole file is one
 * transaction.
 */
export async function collectFeedback(
  client: pg.Client,
  config: MlopsConfig,
  file: string,
  cwd: string,
  options: { force?: boolean } = {},
): Promise<FeedbackSummary> {
  const resolved = path.resolve(cwd, file);
  const source = await openSource({ kind: "file", path: resolved, format: formatFromName(resolved) === "jsonl" ? "jsonl" : "csv" }, config);
  const labelName = config.label.name;
  const positive = String(config.label.positive);
  const negative = String(config.label.negative);
  const reasons = new Map<string, ReasonCount>();
  const note = (code: string, field: string | null, example: string) => {
    const entry = reasons.get(code);
    if (entry) entry.count += 1;
    else reasons.set(code, { field, code, count: 1, example });
  };
  let read = 0;

  return withTransaction(client, async (tx) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
    const checksum = await source.checksumUpfront!();
    const same = await client.query<{ id: number }>("SELECT id FROM batches WHERE source_kind = 'feedback' AND checksum = $1 ORDER BY id LIMIT 1", [
      checksum,
    ]);
    if (same.rows[0] !== undefined && !options.force) {
      tx.rollback();
      const sameAs = same.rows[0].id;
      return {
        status: "skipped",
        batchId: null,
        sameAs,
        source: source.name,
        checksum,
        read: 0,
        attached: 0,
        alreadyAttached: 0,
        quarantined: 0,
        topReasons: [],
      };
    }
    const batch = await client.query<{ id: number }>(
      `INSERT INTO batches (source, source_kind, checksum, status, rows_read, rows_accepted, rows_quarantined, rows_duplicate, report, started_at, finished_at)
       VALUES ($1, 'feedback', '', 'accepted', 0, 0, 0, 0, '{}', now(), now()) RETURNING id`,
      [source.name],
    );
    const batchId = batch.rows[0]!.id;
    await client.query("CREATE TEMP TABLE mlops_feedback (line int, prediction_id uuid, label smallint, problems text, raw text) ON COMMIT DROP");
    async function* rows(): AsyncGenerator<CopyValue[]> {
      for await (const records of source.records) {
        if (source.state.columns && !source.state.columns.includes("prediction_id")) {
          throw usageError(
            "FEEDBACK_COLUMNS",
            `${source.name} has no prediction_id column.`,
            `Feedback files have the columns prediction_id and ${labelName}.`,
          );
        }
        for (const each of records) {
          const record = readRecord(each, source.state);
          read += 1;
          if ("error" in record) {
            note("malformed_record", null, record.error);
            yield [
              record.line,
              null,
              null,
              JSON.stringify([{ field: null, code: "malformed_record", problem: record.error }]),
              JSON.stringify(record.raw),
            ];
            continue;
          }
          const row = recordRow(record, source.state.columns);
          const id = presentText(row.prediction_id);
          const label = presentText(row[labelName]);
          const value = label === positive ? 1 : label === negative ? 0 : null;
          const problem =
            id === null || !UUID.test(id)
              ? { field: "prediction_id", code: "bad_prediction_id", problem: `not a prediction id: ${JSON.stringify(id)}` }
              : value === null
                ? { field: labelName, code: "bad_label", problem: `label must be ${positive} or ${negative}, not ${JSON.stringify(label)}` }
                : undefined;
          if (problem) note(problem.code, problem.field, problem.problem);
          yield [record.line, problem ? null : id, value, problem ? JSON.stringify([problem]) : null, JSON.stringify(row)];
        }
      }
    }
    await copyRowsIn(client, "mlops_feedback", ["line", "prediction_id", "label", "problems", "raw"], rows());
    if (read === 0)
      throw usageError("INPUT_NO_ROWS", `${source.name} has no feedback rows.`, `Feedback files have the columns prediction_id and ${labelName}.`);

    const unknown = await client.query(
      `UPDATE mlops_feedback f SET problems = $1 WHERE problems IS NULL AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.id = f.prediction_id)`,
      [JSON.stringify([{ field: "prediction_id", code: "unknown_prediction", problem: "no logged prediction has this id" }])],
    );
    for (let i = 0; i < (unknown.rowCount ?? 0); i += 1) note("unknown_prediction", "prediction_id", "no logged prediction has this id");
    // A label a prediction already has (an overlapping file, or --force) is not counted twice.
    const attached = await client.query(
      `INSERT INTO feedback (prediction_id, label, batch_id)
       SELECT DISTINCT ON (prediction_id, label) prediction_id, label, $1 FROM mlops_feedback f
        WHERE problems IS NULL AND NOT EXISTS (SELECT 1 FROM feedback x WHERE x.prediction_id = f.prediction_id AND x.label = f.label)
        ORDER BY prediction_id, label, line`,
      [batchId],
    );
    const valid = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM mlops_feedback WHERE problems IS NULL");
    const quarantined = await client.query(
      "INSERT INTO quarantined_rows (batch_id, row_number, raw, reasons) SELECT $1, line, raw::json, problems::jsonb FROM mlops_feedback WHERE problems IS NOT NULL",
      [batchId],
    );
    const topReasons = [...reasons.values()].sort((a, b) => b.count - a.count);
    const summary: FeedbackSummary = {
      status: "accepted",
      batchId,
      sameAs: null,
      source: source.name,
      checksum,
      read,
      attached: attached.rowCount ?? 0,
      alreadyAttached: valid.rows[0]!.n - (attached.rowCount ?? 0),
      quarantined: quarantined.rowCount ?? 0,
      topReasons,
    };
    await client.query(
      `UPDATE batches SET checksum = $2, rows_read = $3, rows_accepted = $4, rows_quarantined = $5, rows_duplicate = $6, report = $7, finished_at = now() WHERE id = $1`,
      [batchId, checksum, read, summary.attached, summary.quarantined, summary.alreadyAttached, JSON.stringify(summary)],
    );
    return summary;
  });
}
