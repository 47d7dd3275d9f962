import { DECIMAL } from "./values.js";

// What schema inference learns about one column, shared by the column and the label rules
// (infer-schema.ts, infer-label.ts).

export interface InferOptions {
  label: string;
  /** Rows to look at, default 10_000. */
  sampleSize?: number;
  /** Most distinct values a text column may hold and still be categorical, default 50. */
  maxCategories?: number;
  rowKey?: string;
  /** The label's positive and negative classes, as text in the data; otherwise chosen (see infer-label.ts). */
  positive?: string;
  negative?: string;
}

export interface ColumnReport {
  name: string;
  role: "feature" | "label" | "row-key" | "ignored";
  type: "numeric" | "categorical" | null;
  nullable: boolean;
  missing: number;
  distinct: number;
  min?: number;
  max?: number;
  values?: string[];
  /** A numeric column's values that are not numbers (at most 1% of its values), with their counts. */
  badValues?: Array<{ value: string; count: number }>;
  note?: string;
}

export type LabelClass = string | number | boolean;

/**
 * A column stays numeric with up to this share of values that are not numbers: one stray "abc"
 * among 3,000 integers must not drop the column (collect quarantines that row instead).
 */
export const NUMERIC_TOLERANCE = 0.01;

/** What one pass over the sample learned about a column. Values are keyed by their trimmed text. */
export interface ColumnProfile {
  name: string;
  present: number;
  counts: Map<string, number>;
  /** False once too many values are not numbers to ever be within NUMERIC_TOLERANCE. */
  numeric: boolean;
  /** Present values that are not numbers. */
  nonNumeric: number;
  allBoolean: boolean;
  min: number;
  max: number;
}

/**
 * Counts per distinct value, merging texts that are the same number ("1" and "1.0") in numeric
 * columns; the few values of a numeric column that are not numbers are left out (see badValues).
 */
export function distinctCounts(profile: ColumnProfile): Map<string, number> {
  if (!isNumeric(profile)) return profile.counts;
  const merged = new Map<string, number>();
  for (const [text, count] of profile.counts) {
    const number = Number(text);
    if (!DECIMAL.test(text) || !Number.isFinite(number)) continue;
    const key = String(number);
    merged.set(key, (merged.get(key) ?? 0) + count);
  }
  return merged;
}

/** Numeric when at least 99% of the present values are numbers. */
export const isNumeric = (profile: ColumnProfile) =>
  profile.numeric && profile.present > 0 && profile.nonNumeric <= profile.present * NUMERIC_TOLERANCE && profile.nonNumeric < profile.present;

export function baseReport(profile: ColumnProfile, rowsSampled: number): ColumnReport {
  const missing = rowsSampled - profile.present;
  return { name: profile.name, role: "ignored", type: null, nullable: missing > 0, missing, distinct: distinctCounts(profile).size };
}
