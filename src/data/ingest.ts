import type pg from "pg";
import type { MlopsConfig } from "../config/schema.js";
import { copyBinaryIn } from "../db/copy-binary.js";
import type { DatabaseSession } from "../db/session.js";
import { withTransaction } from "../db/transaction.js";
import { usageError } from "../errors.js";
import { BatchAccount } from "./batch-account.js";
import { skippedSummary, type BatchSummary, type IngestOptions } from "./batch-summary.js";
import { driftReport } from "./drift.js";
import { EXAMPLE_COLUMNS, ExampleRows } from "./example-rows.js";
import { ProfileAccumulator } from "./profile.js";
import { QuarantineSpill } from "./quarantine-spill.js";
import { loadDriftReference } from "./reference.js";
import type { OpenedSource } from "./sources/open.js";
import { StoredRowProbe } from "./stored-row-probe.js";

export type { BatchSummary, IngestOptions, ReasonCount } from "./batch-summary.js";

/** Serialises ingests: duplicate and checksum checks must see every committed batch. */
const INGEST_LOCK = 0x6d6c6f70; // "mlop"

/**
 * Ingests one batch atomically, in one transaction on `session.client`.
 *
 * Valid rows stream with COPY straight into `examples`, so the database writes while the next
 * rows are parsed; duplicates are filtered first (within the batch by hash, against stored
 * rows by probing on a second connection), since COPY cannot skip a conflicting row.
 * Invalid rows spill to a temporary file and are copied into quarantine at the end, keeping
 * memory bounded whatever the input. A batch over the invalid-row limit is rejected whole: its
 * stored rows move to quarantine and none becomes training data. A killed process leaves
 * nothing, as the transaction never commits.
 */
export async function ingestBatch(
  session: DatabaseSession,
  config: MlopsConfig,
  source: OpenedSource,
  options: IngestOptions,
): Promise<BatchSummary> {
  const { client } = session;
  const started = new Date();
  const batch = new BatchAccount(config);
  let spill: QuarantineSpill | undefined;
  let probe: StoredRowProbe | undefined;

  try {
    return await withTransaction(client, async (tx) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [INGEST_LOCK]);
      if (source.checksumUpfront && !options.force) {
        const checksum = await source.checksumUpfront();
        const sameAs = await batchWithChecksum(client, checksum);
        if (sameAs !== undefined) {
          tx.rollback();
          return skippedSummary(source, checksum, sameAs, options, started);
        }
      }
      const reference = await loadDriftReference(client);
      const profile = new ProfileAccumulator(config.features, reference?.profile);
      const batchId = await insertBatchRow(client, source, started);
      const anyStored = (await client.query("SELECT EXISTS (SELECT 1 FROM examples) AS any")).rows[0].any as boolean;
      if (anyStored) {
        probe = await StoredRowProbe.open(session.target);
      }
      spill = await QuarantineSpill.create(batchId);
      const quarantine = spill;

      const rows = new ExampleRows(batchId);
      async function* examples(): AsyncGenerator<Buffer> {
        for await (const records of source.records) {
          batch.checkHeader(source, config);
          await batch.take(records, source.state, quarantine, profile, rows);
          if (probe) await batch.dropStored(probe, rows);
          batch.countFresh();
          if (rows.out.pos > 0) yield rows.out.take();
          options.onProgress?.({ rows: batch.read, bytes: source.progress.bytes, totalBytes: source.progress.totalBytes });
        }
      }
      await copyBinaryIn(client, "examples", EXAMPLE_COLUMNS, examples());
      if (batch.read === 0) {
        throw usageError(
          "INPUT_NO_ROWS",
          `${source.name} has no data rows${source.state.columns ? " (only a header)" : ""}.`,
          "Nothing to collect: check the export that produced it.",
        );
      }

      const checksum = source.checksum();
      const sameAs = source.checksumUpfront ? undefined : await batchWithChecksum(client, checksum, batchId);
      if (sameAs !== undefined && !options.force) {
        tx.rollback();
        return skippedSummary(source, checksum, sameAs, options, started);
      }

      await quarantine.copyInto(client);
      const invalidShare = batch.invalid / batch.read;
      const rejected = invalidShare > options.maxInvalid;
      if (rejected) await rejectStoredRows(client, batchId, config, invalidShare, options.maxInvalid);

      const drift = reference && !rejected ? driftReport(reference.profile, reference.source, profile.binnedAgainstReference()!) : null;
      const finished = new Date();
      const summary = batch.summary({
        rejected,
        batchId,
        source,
        checksum,
        invalidShare,
        options,
        drift,
        reference: reference?.source,
        started,
        finished,
      });
      const { status, batchId: _id, sameAs: _same, drift: _drift, ...report } = summary;
      await client.query(
        `UPDATE batches SET checksum = $2, status = $3, rows_read = $4, rows_accepted = $5, rows_quarantined = $6, rows_duplicate = $7,
                report = $8, drift = $9, finished_at = $10 WHERE id = $1`,
        [
          batchId,
          checksum,
          status,
          summary.rows.read,
          summary.rows.stored,
          summary.rows.quarantined,
          summary.rows.duplicatesInBatch + summary.rows.duplicatesOfStored,
          JSON.stringify({ ...report, profile: rejected ? undefined : profile.profile() }),
          drift === null ? null : JSON.stringify(drift),
          finished,
        ],
      );
      return summary;
    });
  } finally {
    await probe?.close();
    await spill?.dispose();
  }
}

async function insertBatchRow(client: pg.Client, source: OpenedSource, started: Date): Promise<number> {
  const inserted = await client.query<{ id: number }>(
    `INSERT INTO batches (source, source_kind, checksum, status, rows_read, rows_accepted, rows_quarantined, rows_duplicate, report, started_at, finished_at)
     VALUES ($1, $2, '', 'accepted', 0, 0, 0, 0, '{}', $3, $3) RETURNING id`,
    [source.name, source.kind, started],
  );
  return inserted.rows[0]!.id;
}

async function batchWithChecksum(client: pg.Client, checksum: string, except = -1): Promise<number | undefined> {
  const found = await client.query<{ id: number }>("SELECT id FROM batches WHERE checksum = $1 AND id <> $2 ORDER BY id LIMIT 1", [checksum, except]);
  return found.rows[0]?.id;
}

/** A rejected batch keeps every row, in quarantine: its valid rows move there too. */
async function rejectStoredRows(client: pg.Client, batchId: number, config: MlopsConfig, invalidShare: number, maxInvalid: number): Promise<void> {
  const reason = JSON.stringify([
    {
      field: null,
      code: "batch_rejected",
      problem: `the batch was rejected: ${(invalidShare * 100).toFixed(1)}% of rows are invalid (limit ${(maxInvalid * 100).toFixed(1)}%)`,
    },
  ]);
  await client.query(
    `INSERT INTO quarantined_rows (batch_id, row_number, raw, reasons)
     SELECT batch_id, row_number,
            (features::jsonb || jsonb_build_object($3::text, CASE label WHEN 1 THEN $4::jsonb WHEN 0 THEN $5::jsonb END))::json, $2::jsonb
       FROM examples WHERE batch_id = $1 ORDER BY row_number`,
    [batchId, reason, config.label.name, JSON.stringify(config.label.positive), JSON.stringify(config.label.negative)],
  );
  await client.query("DELETE FROM examples WHERE batch_id = $1", [batchId]);
}
