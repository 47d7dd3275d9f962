import type pg from "pg";
import type { MlopsConfig } from "../config/schema.js";
import { connectPg } from "../db/connection.js";
import { copyBinaryIn } from "../db/copy-binary.js";
import { withTransaction } from "../db/transaction.js";
import type { DatabaseSession } from "../db/session.js";
import { usageError } from "../errors.js";
import { driftReport } from "./drift.js";
import { ProfileAccumulator } from "./profile.js";
import { QuarantineSpill } from "./quarantine-spill.js";
import { loadDriftReference } from "./reference.js";
import type { OpenedSource } from "./sources/open.js";
import type { SourceRecord } from "./sources/formats.js";
import { RowValidator, type ColumnPlan, type RowProblem, type Validation } from "./validate.js";
import { hashToDecimal, RowHashSet, type RowHash } from "./row-hash.js";
import { readRecord, recordRow, type FormatState } from "./sources/formats.js";
import { isCsvLine } from "./sources/csv-parser.js";
import { CsvFastPath, NOT_HANDLED } from "./csv-fast-path.js";
import { EXAMPLE_COLUMNS, ExampleRows } from "./example-rows.js";
import type { FeatureValue, LabelValue } from "./types.js";
import type { Split } from "../generated/prisma/enums.js";
import type { BatchSummary, IngestOptions, ReasonCount } from "./batch-summary.js";

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
  let probe: pg.Client | undefined;

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
        probe = await connectPg(session.target);
        // Right after a big batch the planner may have no statistics yet and scan the whole table
        // for each chunk's probe; the hash index is always the right plan here.
        await probe.query("SET enable_seqscan = off");
      }
      spill = await QuarantineSpill.create(batchId);
      const quarantine = spill;

      const rows = new ExampleRows(batchId);
      async function* examples(): AsyncGenerator<Buffer> {
        for await (const records of source.records) {
          batch.noteColumns(source, config);
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
    await probe?.end().catch(() => undefined);
    await spill?.dispose();
  }
}

/**
 * The running account of a batch: counts, reasons and the within-batch duplicate check. Valid
 * rows come back for storing; invalid ones go to the quarantine spill.
 */
class BatchAccount {
  read = 0;
  invalid = 0;
  duplicatesInBatch = 0;
  duplicatesOfStored = 0;
  stored = 0;
  readonly labels = { positive: 0, negative: 0, unlabelled: 0 };
  readonly splits = { train: 0, validation: 0, test: 0 };
  private readonly reasons = new Map<string, ReasonCount>();
  private readonly extraColumns = new Set<string>();
  private readonly seen = new RowHashSet();
  private plan: ColumnPlan | undefined;
  private fast: CsvFastPath | undefined;
  /** The fast path's feature values of the row at hand, for the profile. */
  private readonly values: FeatureValue[];
  /** The rows of the chunk at hand written so far. */
  private readonly fresh = new ChunkRows();
  private readonly validator: RowValidator;
  private readonly schemaColumns: Set<string>;
  private columnsChecked = false;

  constructor(private readonly config: MlopsConfig) {
    this.validator = new RowValidator(config);
    this.values = new Array<FeatureValue>(config.features.length).fill(null);
    this.schemaColumns = new Set([...config.features.map((f) => f.name), config.label.name, ...(config.rowKey ? [config.rowKey] : [])]);
  }

  /** Checks a declared header (CSV) once: every feature must be there; extras are noted. */
  noteColumns(source: OpenedSource, config: MlopsConfig): void {
    if (this.columnsChecked || !source.state.columns) return;
    this.columnsChecked = true;
    const present = new Set(source.state.columns);
    const missing = [...config.features.map((f) => f.name), ...(config.rowKey ? [config.rowKey] : [])].filter((c) => !present.has(c));
    if (missing.length > 0) {
      throw usageError(
        "COLUMNS_MISSING",
        `${source.name} lacks ${missing.length} column${missing.length === 1 ? "" : "s"} of the schema: ${missing.join(", ")}.`,
        `Its header has: ${source.state.columns.join(", ").slice(0, 500)}. Export those columns, or update the features in mlops.config.json.`,
        { missing, columns: source.state.columns },
      );
    }
    for (const column of source.state.columns) if (!this.schemaColumns.has(column)) this.extraColumns.add(column);
  }

  /**
   * Validates records and writes the valid, new ones into `rows`: CSV lines by the fast path
   * where it can, everything else through RowValidator. Invalid rows go to the quarantine spill.
   */
  async take(
    records: SourceRecord[],
    state: FormatState,
    quarantine: QuarantineSpill,
    profile: ProfileAccumulator,
    rows: ExampleRows,
  ): Promise<void> {
    for (const each of records) {
      this.read += 1;
      if (isCsvLine(each)) {
        this.plan ??= this.validator.planFor(state.columns ?? []);
        this.fast ??= new CsvFastPath(this.config, this.plan, state.columns?.length ?? 0, state.delimiter ?? ",");
        const label = this.fast.write(each, rows, this.values);
        if (label !== NOT_HANDLED) {
          profile.add(this.values);
          this.keep(rows, rows.finish(label), label);
          continue;
        }
      }
      const record = readRecord(each, state);
      if ("error" in record) {
        const problem: RowProblem = { field: null, code: "malformed_record", problem: record.error };
        this.invalid += 1;
        this.count(problem);
        await quarantine.add(record.line, record.raw, [problem]);
        continue;
      }
      let result: Validation;
      if ("fields" in record) {
        this.plan ??= this.validator.planFor(state.columns ?? []);
        result = this.validator.validateFields(record.fields, this.plan);
      } else {
        for (const column in record.row) if (!this.schemaColumns.has(column)) this.extraColumns.add(column);
        result = this.validator.validate(record.row);
      }
      if (!result.ok) {
        this.invalid += 1;
        for (const problem of result.problems) this.count(problem);
        await quarantine.add(record.line, recordRow(record, state.columns), result.problems);
        continue;
      }
      const { row } = result;
      profile.add(row.values);
      rows.begin(record.line, 0);
      rows.keyText(row.rowKey);
      rows.featuresText(row.featuresJson);
      this.keep(rows, rows.finish(row.label), row.label);
    }
  }

  /** Keeps the row just written unless the batch already had it. */
  private keep(rows: ExampleRows, split: Split, label: LabelValue): void {
    if (!this.seen.add(rows.hash)) {
      rows.discard();
      this.duplicatesInBatch += 1;
      return;
    }
    this.fresh.add(rows.start, label, split);
  }

  /** Takes out of `out` the rows of this chunk that committed batches already hold. */
  async dropStored(probe: pg.Client, rows: ExampleRows): Promise<void> {
    const { fresh } = this;
    const { out } = rows;
    if (fresh.size === 0) return;
    const hash: RowHash = { hi: 0, lo: 0 };
    const hashes = fresh.starts.slice(0, fresh.size).map((start) => hashToDecimal(rows.hashAt(start, hash)));
    const found = await probe.query<{ h: string }>("SELECT DISTINCT row_hash::text AS h FROM examples WHERE row_hash = ANY($1::bigint[])", [hashes]);
    if (found.rows.length === 0) return;
    const stored = new Set(found.rows.map((r) => r.h));
    let write = fresh.starts[0]!;
    let kept = 0;
    for (let i = 0; i < fresh.size; i += 1) {
      const start = fresh.starts[i]!;
      const end = i + 1 < fresh.size ? fresh.starts[i + 1]! : out.pos;
      if (stored.has(hashes[i]!)) {
        this.duplicatesOfStored += 1;
        continue;
      }
      if (write !== start) out.buf.copy(out.buf, write, start, end);
      write += end - start;
      fresh.move(i, kept++);
    }
    out.pos = write;
    fresh.size = kept;
  }

  /** Counts the chunk's rows that are being stored. */
  countFresh(): void {
    const { fresh } = this;
    for (let i = 0; i < fresh.size; i += 1) {
      this.stored += 1;
      this.splits[fresh.splits[i]!] += 1;
      const label = fresh.labels[i];
      if (label === 1) this.labels.positive += 1;
      else if (label === 0) this.labels.negative += 1;
      else this.labels.unlabelled += 1;
    }
    fresh.size = 0;
  }

  private count(problem: RowProblem): void {
    const key = `${problem.field ?? ""}\u0000${problem.code}`;
    const entry = this.reasons.get(key);
    if (entry) entry.count += 1;
    else this.reasons.set(key, { field: problem.field, code: problem.code, count: 1, example: problem.problem });
  }

  summary(facts: {
    rejected: boolean;
    batchId: number;
    source: OpenedSource;
    checksum: string;
    invalidShare: number;
    options: IngestOptions;
    drift: BatchSummary["drift"];
    reference: string | undefined;
    started: Date;
    finished: Date;
  }): BatchSummary {
    const { rejected } = facts;
    const valid = this.read - this.invalid;
    return {
      status: rejected ? "rejected" : "accepted",
      batchId: facts.batchId,
      sameAs: null,
      source: facts.source.name,
      sourceKind: facts.source.kind,
      checksum: facts.checksum,
      rows: {
        read: this.read,
        valid,
        invalid: this.invalid,
        stored: rejected ? 0 : this.stored,
        quarantined: rejected ? this.invalid + this.stored : this.invalid,
        duplicatesInBatch: this.duplicatesInBatch,
        duplicatesOfStored: this.duplicatesOfStored,
      },
      invalidShare: facts.invalidShare,
      maxInvalid: facts.options.maxInvalid,
      topReasons: [...this.reasons.values()].sort((a, b) => b.count - a.count).slice(0, 10),
      extraColumns: [...this.extraColumns],
      labels: rejected ? { positive: 0, negative: 0, unlabelled: 0 } : this.labels,
      splits: rejected ? { train: 0, validation: 0, test: 0 } : this.splits,
      drift: facts.drift,
      driftReference: facts.reference ?? null,
      durationMs: facts.finished.getTime() - facts.started.getTime(),
    };
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

function skippedSummary(source: OpenedSource, checksum: string, sameAs: number, options: IngestOptions, started: Date): BatchSummary {
  return {
    status: "skipped",
    batchId: null,
    sameAs,
    source: source.name,
    sourceKind: source.kind,
    checksum,
    rows: { read: 0, valid: 0, invalid: 0, stored: 0, quarantined: 0, duplicatesInBatch: 0, duplicatesOfStored: 0 },
    invalidShare: 0,
    maxInvalid: options.maxInvalid,
    topReasons: [],
    extraColumns: [],
    labels: { positive: 0, negative: 0, unlabelled: 0 },
    splits: { train: 0, validation: 0, test: 0 },
    drift: null,
    driftReference: null,
    durationMs: Date.now() - started.getTime(),
  };
}

/** Where each row of a chunk starts in the COPY buffer, with what counting needs. */
class ChunkRows {
  size = 0;
  readonly starts: number[] = [];
  readonly labels: LabelValue[] = [];
  readonly splits: Split[] = [];

  add(start: number, label: LabelValue, split: Split): void {
    const i = this.size++;
    this.starts[i] = start;
    this.labels[i] = label;
    this.splits[i] = split;
  }

  /** Moves row `from` to `to` (to <= from), once its bytes have moved. */
  move(from: number, to: number): void {
    this.labels[to] = this.labels[from]!;
    this.splits[to] = this.splits[from]!;
  }
}
