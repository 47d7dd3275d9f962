import type pg from "pg";
import { usageError } from "../errors.js";

export interface DataOverview {
  examples: { total: number; bySplit: Record<"train" | "validation" | "test", { positive: number; negative: number; unlabelled: number }> };
  quarantined: number;
  feedback: number;
  batches: Array<{
    id: number;
    status: string;
    sourceKind: string;
    source: string;
    rowsRead: number;
    rowsAccepted: number;
    rowsQuarantined: number;
    rowsDuplicate: number;
    drift: string | null;
    finishedAt: string;
  }>;
}

/** Labelled rows stored; with `afterBatch`, only those of later batches (the fresh ones). */
export async function countLabelledRows(client: pg.ClientBase, afterBatch?: number): Promise<number> {
  const result =
    afterBatch === undefined
      ? await client.query<{ n: string }>("SELECT count(*)::text AS n FROM examples WHERE label IS NOT NULL")
      : await client.query<{ n: string }>("SELECT count(*)::text AS n FROM examples WHERE batch_id > $1 AND label IS NOT NULL", [afterBatch]);
  return Number(result.rows[0]!.n);
}

/** What `mlops data` shows: stored rows by split and label, quarantine, and recent batches. */
export async function dataOverview(client: pg.ClientBase, limit: number): Promise<DataOverview> {
  // One connection runs one query at a time; these are all quick.
  const counts = await client.query<{ split: "train" | "validation" | "test"; label: number | null; n: string }>(
    "SELECT split, label, count(*)::text AS n FROM examples GROUP BY split, label",
  );
  const quarantined = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM quarantined_rows");
  const feedback = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM feedback");
  const batches = await client.query(
    `SELECT id, status, source_kind, source, rows_read, rows_accepted, rows_quarantined, rows_duplicate, drift ->> 'verdict' AS drift, finished_at
       FROM batches ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  const empty = () => ({ positive: 0, negative: 0, unlabelled: 0 });
  const bySplit = { train: empty(), validation: empty(), test: empty() };
  let total = 0;
  for (const row of counts.rows) {
    const n = Number(row.n);
    total += n;
    const bucket = bySplit[row.split];
    if (row.label === 1) bucket.positive += n;
    else if (row.label === 0) bucket.negative += n;
    else bucket.unlabelled += n;
  }
  return {
    examples: { total, bySplit },
    quarantined: Number(quarantined.rows[0]?.n ?? 0),
    feedback: Number(feedback.rows[0]?.n ?? 0),
    batches: batches.rows.map((b) => ({
      id: b.id,
      status: b.status,
      sourceKind: b.source_kind,
      source: b.source,
      rowsRead: b.rows_read,
      rowsAccepted: b.rows_accepted,
      rowsQuarantined: b.rows_quarantined,
      rowsDuplicate: b.rows_duplicate,
      drift: b.drift,
      finishedAt: (b.finished_at as Date).toISOString(),
    })),
  };
}

export interface QuarantineEntry {
  batchId: number;
  rowNumber: number;
  reasons: Array<{ field: string | null; problem: string }>;
  raw: unknown;
}

export async function quarantineEntries(client: pg.ClientBase, batchId: number | undefined, limit: number): Promise<QuarantineEntry[]> {
  if (batchId !== undefined && (await client.query("SELECT 1 FROM batches WHERE id = $1", [batchId])).rowCount === 0) {
    throw usageError("BATCH_NOT_FOUND", `No batch ${batchId}.`, "List the batches with `mlops data`.");
  }
  const result = await client.query(
    `SELECT batch_id, row_number, reasons, raw FROM quarantined_rows ${batchId === undefined ? "" : "WHERE batch_id = $2"}
      ORDER BY batch_id DESC, row_number LIMIT $1`,
    batchId === undefined ? [limit] : [limit, batchId],
  );
  return result.rows.map((r) => ({ batchId: r.batch_id, rowNumber: r.row_number, reasons: r.reasons, raw: r.raw }));
}
