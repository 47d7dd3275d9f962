import type { Feature, MlopsConfig } from "../config/schema.js";
import type { FeatureValue, LabelValue, RawRow, RawValue } from "./types.js";
import { DECIMAL, fitsFloat32, NON_FINITE, parseNumber, presentText } from "./values.js";

export type ProblemCode =
  | "missing_column"
  | "missing_value"
  | "unknown_category"
  | "not_a_number"
  | "not_finite"
  | "out_of_range"
  | "beyond_float32"
  | "bad_label"
  | "missing_row_key"
  | "malformed_record"
  | "batch_rejected";

export interface RowProblem {
  /** The column at fault, or null for a problem with the whole row. */
  field: string | null;
  /** A stable kind, for counting the top reasons of a batch. */
  code: ProblemCode;
  problem: string;
}

export interface ValidRow {
  /** The configured row key's value, when the config names a key column. */
  rowKey: string | null;
  /** The feature values exactly as received, as a JSON object (features only). */
  featuresJson: string;
  /** Typed values in schema order, for profiles and models. */
  values: FeatureValue[];
  label: LabelValue;
}

export type Validation = { ok: true; row: ValidRow } | { ok: false; problems: RowProblem[] };

/** Where each schema column sits in a record's fields (-1: absent). */
export interface ColumnPlan {
  features: Int32Array;
  label: number;
  rowKey: number;
}

/**
 * Checks rows against the project's schema: every feature present, numbers finite and in
 * range, categories allowed, nulls only where nullable, the label one of its two values (or
 * absent: unlabelled). CSV records are checked as field arrays through a column plan made once
 * from the header, so the bulk path builds no object per row.
 */
export class RowValidator {
  private readonly features: readonly Feature[];
  private readonly keyPrefixes: string[];
  private readonly allowed: Array<Set<string> | undefined>;
  private readonly labelName: string;
  private readonly positive: string;
  private readonly negative: string;
  private readonly numericLabels: boolean;
  private readonly rowKeyName: string | undefined;
  private readonly objectPlan: ColumnPlan;

  constructor(config: MlopsConfig) {
    this.features = config.features;
    this.keyPrefixes = config.features.map((f, i) => `${i === 0 ? "{" : ","}${JSON.stringify(f.name)}:`);
    this.allowed = config.features.map((f) => (f.type === "categorical" ? new Set(f.values) : undefined));
    this.labelName = config.label.name;
    this.positive = String(config.label.positive);
    this.negative = String(config.label.negative);
    this.numericLabels = typeof config.label.positive === "number" && typeof config.label.negative === "number";
    this.rowKeyName = config.rowKey;
    const n = config.features.length;
    this.objectPlan = { features: Int32Array.from({ length: n }, (_, i) => i), label: n, rowKey: config.rowKey ? n + 1 : -1 };
  }

  /** The plan for records whose fields follow `columns` (a CSV header). */
  planFor(columns: readonly string[]): ColumnPlan {
    const index = new Map(columns.map((name, i) => [name, i]));
    return {
      features: Int32Array.from(this.features, (f) => index.get(f.name) ?? -1),
      label: index.get(this.labelName) ?? -1,
      rowKey: this.rowKeyName === undefined ? -1 : (index.get(this.rowKeyName) ?? -1),
    };
  }

  /** Checks a row given as an object (JSON sources). */
  validate(raw: RawRow): Validation {
    const fields: Array<RawValue | undefined> = this.features.map((f) => raw[f.name]);
    fields.push(raw[this.labelName]);
    if (this.rowKeyName !== undefined) fields.push(raw[this.rowKeyName]);
    return this.validateFields(fields, this.objectPlan);
  }

  /** Checks a row given as fields laid out by `plan`. */
  validateFields(fields: ReadonlyArray<RawValue | undefined>, plan: ColumnPlan): Validation {
    const values: FeatureValue[] = new Array(this.features.length);
    let problems: RowProblem[] | undefined;
    let json = "";
    for (let i = 0; i < this.features.length; i += 1) {
      const column = plan.features[i]!;
      const received = column < 0 ? undefined : fields[column];
      const result = this.checkValue(this.features[i]!, i, received);
      if (typeof result === "object" && result !== null) {
        (problems ??= []).push(result);
        continue;
      }
      values[i] = result;
      json += this.keyPrefixes[i] + rawJson(received, result);
    }
    const label = this.checkLabel(plan.label < 0 ? undefined : fields[plan.label]);
    if (typeof label === "object" && label !== null) (problems ??= []).push(label);

    let rowKey: string | null = null;
    if (this.rowKeyName !== undefined) {
      rowKey = presentText(plan.rowKey < 0 ? undefined : fields[plan.rowKey]);
      if (rowKey === null) (problems ??= []).push({ field: this.rowKeyName, code: "missing_row_key", problem: "missing row key" });
    }
    if (problems) return { ok: false, problems };
    // The stored JSON is canonical enough to identify content: CSV "1.5" and JSON 1.5 both store 1.5.
    return { ok: true, row: { rowKey, featuresJson: `${json}}`, values, label: label as LabelValue } };
  }

  /** The typed value, or the problem with it. */
  private checkValue(feature: Feature, index: number, received: RawValue | undefined): FeatureValue | RowProblem {
    if (received === undefined) return { field: feature.name, code: "missing_column", problem: "missing column" };
    // JSON numbers (and the generator's) need no text round trip: the hot path of seed.
    if (typeof received === "number" && feature.type === "numeric") {
      if (!Number.isFinite(received)) return { field: feature.name, code: "not_finite", problem: `not a finite number: ${received}` };
      return this.inRange(feature, received);
    }
    const text = presentText(received);
    if (text === null) return feature.nullable ? null : { field: feature.name, code: "missing_value", problem: "missing value (not nullable)" };
    if (feature.type === "categorical") {
      if (typeof received === "object") return { field: feature.name, code: "unknown_category", problem: "not a category (an object or array)" };
      return this.allowed[index]!.has(text)
        ? text
        : { field: feature.name, code: "unknown_category", problem: `unknown category ${quote(text)} (allowed: ${feature.values.join(", ")})` };
    }
    const number = parseNumber(received, text);
    if (number === null) {
      return NON_FINITE.test(text)
        ? { field: feature.name, code: "not_finite", problem: `not a finite number: ${quote(text)}` }
        : { field: feature.name, code: "not_a_number", problem: `not a number: ${quote(text)}` };
    }
    return this.inRange(feature, number);
  }

  private inRange(feature: Feature & { type: "numeric" }, number: number): number | RowProblem {
    if (!fitsFloat32(number)) {
      return {
        field: feature.name,
        code: "beyond_float32",
        problem: `${number} is finite but beyond what a model can hold (float32 reaches about ±3.4e38)`,
      };
    }
    if ((feature.min !== undefined && number < feature.min) || (feature.max !== undefined && number > feature.max)) {
      return {
        field: feature.name,
        code: "out_of_range",
        problem: `${number} is outside the allowed range [${feature.min ?? "-inf"}, ${feature.max ?? "inf"}]`,
      };
    }
    return number;
  }

  private checkLabel(received: RawValue | undefined): LabelValue | RowProblem {
    const text = presentText(received);
    if (text === null) return null;
    if (text === this.positive) return 1;
    if (text === this.negative) return 0;
    // "1.0" is the label 1 when the labels are numbers (exports often write floats).
    if (this.numericLabels && DECIMAL.test(text)) {
      if (Number(text) === Number(this.positive)) return 1;
      if (Number(text) === Number(this.negative)) return 0;
    }
    return { field: this.labelName, code: "bad_label", problem: `label must be ${this.positive} or ${this.negative}, not ${quote(text)}` };
  }
}

/** JSON's own number syntax: "+1", ".5", "1." and "01" are numbers here but not JSON. */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The received value as JSON text. A CSV field that is a number in JSON's syntax is written with
 * its digits exactly as received ("1.50" stays 1.50 in the stored JSON); other spellings of a
 * number are written as the number; anything else goes through JSON.stringify.
 */
function rawJson(received: RawValue | undefined, value: FeatureValue): string {
  if (typeof received === "string") {
    if (typeof value !== "number") return JSON.stringify(received);
    return JSON_NUMBER.test(received) ? received : String(value);
  }
  if (typeof received === "number") return String(received);
  return received === undefined ? "null" : JSON.stringify(received);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
