import type { MlopsConfig } from "../config/schema.js";
import { usageError } from "../errors.js";
import type { Split } from "../generated/prisma/enums.js";
import type { BatchSummary, IngestOptions, ReasonCount } from "./batch-summary.js";
import { ChunkRows } from "./chunk-rows.js";
import { CsvFastPath, NOT_HANDLED } from "./csv-fast-path.js";
import type { ExampleRows } from "./example-rows.js";
import type { ProfileAccumulator } from "./profile.js";
import type { QuarantineSpill } from "./quarantine-spill.js";
import { RowHashSet } from "./row-hash.js";
import { isCsvLine } from "./sources/csv-parser.js";
import { readRecord, recordRow, type FormatState, type SourceRecord } from "./sources/formats.js";
import type { OpenedSource } from "./sources/open.js";
import type { StoredRowProbe } from "./stored-row-probe.js";
import type { FeatureValue, LabelValue } from "./types.js";
import { RowValidator, type ColumnPlan, type RowProblem, type Validation } from "./validate.js";

/**
 * The running account of a batch: counts, reasons and the within-batch duplicate check. Valid
 * rows come back for storing; invalid ones go to the quarantine spill.
 */
export class BatchAccount {
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

  /** Checks a declared header (CSV) once: a missing feature is an error (COLUMNS_MISSING); extra columns are noted. */
  checkHeader(source: OpenedSource, config: MlopsConfig): void {
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

  /** Takes out of the chunk the rows that committed batches already hold, counting them. */
  async dropStored(probe: StoredRowProbe, rows: ExampleRows): Promise<void> {
    this.duplicatesOfStored += await probe.dropStored(rows, this.fresh);
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
