import type { MlopsConfig } from "../../config/schema.js";
import { isCsvLine } from "../../data/sources/csv-parser.js";
import { readRecord, type FormatState, type SourceRecord } from "../../data/sources/formats.js";
import type { FeatureValue, RawValue } from "../../data/types.js";
import { CsvLineValues } from "./csv-line-values.js";
import { RowValidator, type ColumnPlan, type RowProblem } from "../../data/validate.js";
import { presentText } from "../../data/values.js";
import { usageError } from "../../errors.js";
import { transformRow } from "../../model/preprocess.js";
import type { ServingModel } from "../../server/serving-model.js";
import type { InputRow } from "./table-writer.js";

export type CheckedRow =
  | { ok: true; input: InputRow; values: FeatureValue[]; featuresJson: string | null; rowKey: string | null }
  | { ok: false; line: number; problems: RowProblem[]; raw: RawValue | Record<string, RawValue>; rowKey: string | null };

/**
 * Checks each input row against the project's schema with collect's own validator (so a
 * rejected row has the reasons collect would give) and scores the valid ones exactly as the
 * server scores one row: the same preprocessing (transformRow) written into the same
 * WebAssembly forward pass's input, then `predictRow`. The label and the row key are not
 * needed to score: an odd label or a missing key never rejects a row.
 */
export class RowScorer {
  private readonly validator: RowValidator;
  private readonly names: string[];
  private readonly rowKeyName: string | undefined;
  /** One object reused for every row: the server's transformRow reads features by name. */
  private readonly features: Record<string, unknown> = {};
  private plan: ColumnPlan | undefined;
  private keyColumn = -1;
  private readonly objectPlan: ColumnPlan;
  private lineValues: CsvLineValues | undefined;
  private readonly fastValues: FeatureValue[];
  private readonly fill: (row: Record<string, unknown>, values: readonly FeatureValue[]) => void;

  constructor(
    private readonly config: MlopsConfig,
    private readonly model: ServingModel,
    /** Whether each row's features JSON is needed (for the prediction log). */
    private readonly withJson: boolean,
  ) {
    this.validator = new RowValidator({ ...config, rowKey: undefined });
    this.names = config.features.map((f) => f.name);
    this.rowKeyName = config.rowKey;
    for (const name of this.names) this.features[name] = null;
    const missing = model.manifest.preprocess.features.filter((f) => !this.names.includes(f.name)).map((f) => f.name);
    if (missing.length > 0) {
      throw usageError(
        "MODEL_SCHEMA_MISMATCH",
        `${model.version} was trained on features the config no longer has: ${missing.join(", ")}.`,
        "Score with a version trained on the current schema (`mlops models`), or retrain.",
      );
    }
    this.fastValues = new Array<FeatureValue>(this.names.length).fill(null);
    // Stores by literal names: a loop storing by computed names was one tenth of the CPU profile
    // of scoring 200k rows (megamorphic keyed stores); this is a handful of monomorphic ones.
    // The names are JSON-quoted, so no feature name can change the code.
    this.fill = new Function("o", "v", this.names.map((name, i) => `o[${JSON.stringify(name)}] = v[${i}];`).join("\n")) as RowScorer["fill"];
    this.objectPlan = { features: Int32Array.from(this.names, (_, i) => i), label: -1, rowKey: -1 };
  }

  /** Called once the input's columns are known (a CSV header): a missing feature column stops the run. */
  useColumns(columns: readonly string[], source: string, delimiter: string): void {
    const plan = this.validator.planFor(columns);
    const absent = this.names.filter((_, i) => plan.features[i]! < 0);
    if (absent.length > 0) {
      throw usageError(
        "FEATURES_MISSING",
        `${source} has no column for ${absent.join(", ")}: no row could be scored.`,
        `The input needs every feature of the schema: ${this.names.join(", ")}.`,
      );
    }
    this.plan = { features: plan.features, label: -1, rowKey: -1 };
    this.keyColumn = this.rowKeyName === undefined ? -1 : columns.indexOf(this.rowKeyName);
    if (!this.withJson) this.lineValues = new CsvLineValues(this.config, this.plan, columns.length, delimiter);
  }

  check(record: SourceRecord, state: FormatState): CheckedRow {
    if (this.lineValues !== undefined && isCsvLine(record) && this.lineValues.read(record, this.fastValues)) {
      return { ok: true, input: record, values: this.fastValues, featuresJson: null, rowKey: null };
    }
    const read = readRecord(record, state);
    if ("error" in read)
      return { ok: false, line: read.line, problems: [{ field: null, code: "malformed_record", problem: read.error }], raw: read.raw, rowKey: null };
    if ("fields" in read) {
      const rowKey = this.keyColumn < 0 ? null : presentText(read.fields[this.keyColumn]);
      const result = this.validator.validateFields(read.fields, this.plan!);
      if (!result.ok) return { ok: false, line: read.line, problems: result.problems, raw: this.rawText(read.fields, state), rowKey };
      return { ok: true, input: isCsvLine(record) ? record : read, values: result.row.values, featuresJson: result.row.featuresJson, rowKey };
    }
    const fields = this.names.map((name) => read.row[name]);
    const rowKey = this.rowKeyName === undefined ? null : presentText(read.row[this.rowKeyName]);
    const result = this.validator.validateFields(fields, this.objectPlan);
    if (!result.ok) return { ok: false, line: read.line, problems: result.problems, raw: read.row, rowKey };
    return { ok: true, input: read, values: result.row.values, featuresJson: result.row.featuresJson, rowKey };
  }

  /** The probability of the positive class for validated values (schema order). */
  probability(values: readonly FeatureValue[]): number {
    const { features } = this;
    this.fill(features, values);
    const { forward } = this.model;
    transformRow(this.model.manifest.preprocess, features, forward.row);
    return forward.predictRow();
  }

  /** The record written back as CSV/TSV, quoted where a field needs it, so it reads as the row received. */
  private rawText(fields: string[], state: FormatState): string {
    const delimiter = state.delimiter ?? ",";
    const quoted = fields.map((field) =>
      field.includes(delimiter) || field.includes('"') || field.includes("\n") || field.includes("\r") ? `"${field.replaceAll('"', '""')}"` : field,
    );
    return quoted.join(delimiter).slice(0, 1000);
  }
}
