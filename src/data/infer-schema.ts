import type { Feature } from "../config/schema.js";
import { usageError } from "../errors.js";
import type { RawRow, RawValue } from "./types.js";
import { chooseLabel } from "./infer-label.js";
import {
  baseReport,
  distinctCounts,
  isNumeric,
  NUMERIC_TOLERANCE,
  type ColumnProfile,
  type ColumnReport,
  type InferOptions,
  type LabelClass,
} from "./column-profile.js";

export { distinctCounts, isNumeric, NUMERIC_TOLERANCE, type ColumnReport, type InferOptions, type LabelClass } from "./column-profile.js";
import { DECIMAL, NON_FINITE, parseNumber, presentText } from "./values.js";

export interface InferredSchema {
  features: Feature[];
  label: { name: string; positive: LabelClass; negative: LabelClass };
  rowKey?: string;
  rowsSampled: number;
  columns: ColumnReport[];
  warnings: string[];
}

/** The config schema's rule for names; data columns must already obey it, as they are matched by name. */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 63;
const ID_LIKE_NAME = /^(id|key|uuid)$|_id$/i;

/** Non-finite spellings ("NaN", "inf") say nothing about a column's type; validation rejects them later. */
function typedText(value: RawValue | undefined): string | null {
  const text = presentText(value);
  return text === null || NON_FINITE.test(text) ? null : text;
}

async function profileSample(rows: AsyncIterable<RawRow> | Iterable<RawRow>, sampleSize: number) {
  const profiles = new Map<string, ColumnProfile>();
  let rowsSampled = 0;
  // Breaking out of for-await closes the source, so an endless or huge input stops here.
  for await (const row of rows) {
    rowsSampled += 1;
    for (const [name, value] of Object.entries(row)) {
      let profile = profiles.get(name);
      if (!profile) {
        profile = { name, present: 0, counts: new Map(), numeric: true, nonNumeric: 0, allBoolean: true, min: Infinity, max: -Infinity };
        profiles.set(name, profile);
      }
      const text = typedText(value);
      if (text === null) continue;
      profile.present += 1;
      profile.counts.set(text, (profile.counts.get(text) ?? 0) + 1);
      profile.allBoolean &&= typeof value === "boolean";
      const number = profile.numeric ? parseNumber(value, text) : null;
      if (number === null) {
        profile.nonNumeric += 1;
        if (profile.nonNumeric > sampleSize * NUMERIC_TOLERANCE) profile.numeric = false;
      } else {
        profile.min = Math.min(profile.min, number);
        profile.max = Math.max(profile.max, number);
      }
    }
    if (rowsSampled >= sampleSize) break;
  }
  return { profiles, rowsSampled };
}

/** The values of a numeric column that are not numbers, most frequent first. */
function badValues(profile: ColumnProfile): Array<{ value: string; count: number }> {
  const bad: Array<{ value: string; count: number }> = [];
  for (const [value, count] of profile.counts) {
    if (!DECIMAL.test(value) || !Number.isFinite(Number(value))) bad.push({ value, count });
  }
  return bad.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}

function looksLikeRowKey(profile: ColumnProfile, rowsSampled: number): boolean {
  return ID_LIKE_NAME.test(profile.name) && rowsSampled > 1 && profile.present === rowsSampled && distinctCounts(profile).size === rowsSampled;
}

/** Decides what a column other than the label becomes, and the feature it contributes if any. */
function classifyColumn(profile: ColumnProfile, rowsSampled: number, maxCategories: number, warnings: string[]) {
  const report = baseReport(profile, rowsSampled);
  if (profile.present === 0) {
    return { report: { ...report, note: "no values in the sample" }, feature: undefined };
  }
  if (isNumeric(profile)) {
    const numeric = { ...report, role: "feature" as const, type: "numeric" as const, min: profile.min, max: profile.max };
    let note = "observed range only: a sample's range is not written as bounds, as it would quarantine legitimate later values";
    const bad = badValues(profile);
    if (bad.length > 0) {
      const shown = bad
        .slice(0, 5)
        .map((b) => `${JSON.stringify(b.value)}${b.count > 1 ? ` ×${b.count}` : ""}`)
        .join(", ");
      note = `numeric in ${profile.present - profile.nonNumeric} of ${profile.present} values; not numbers: ${shown}${bad.length > 5 ? ", …" : ""}`;
      warnings.push(
        `Column "${profile.name}" is numeric, but ${profile.nonNumeric} sampled value${profile.nonNumeric === 1 ? " is" : "s are"} not a number (${shown}); collect quarantines those rows.`,
      );
      return {
        report: { ...numeric, badValues: bad.slice(0, 20), note },
        feature: { name: profile.name, type: "numeric" as const, nullable: report.nullable },
      };
    }
    return { report: { ...numeric, note }, feature: { name: profile.name, type: "numeric" as const, nullable: report.nullable } };
  }
  const values = [...profile.counts.keys()].sort();
  if (values.length <= maxCategories) {
    const feature = { name: profile.name, type: "categorical" as const, values, nullable: report.nullable };
    return { report: { ...report, role: "feature" as const, type: "categorical" as const, values }, feature };
  }
  const note = `${values.length} distinct values (more than ${maxCategories}): an ID or free text, not a feature`;
  return { report: { ...report, note }, feature: undefined };
}

const isValidName = (name: string) => VALID_NAME.test(name) && name.length <= MAX_NAME_LENGTH;

/**
 * Proposes a project schema from a sample of a user's data, as TFX's SchemaGen does: which
 * columns are numeric or categorical features, which is the label and which class is positive,
 * and which column identifies a row. The report says why each column was treated as it was.
 */
export async function inferSchema(rows: AsyncIterable<RawRow> | Iterable<RawRow>, options: InferOptions): Promise<InferredSchema> {
  const sampleSize = options.sampleSize ?? 10_000;
  const maxCategories = options.maxCategories ?? 50;
  for (const [option, value] of [
    ["sampleSize", sampleSize],
    ["maxCategories", maxCategories],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw usageError("INVALID_OPTION", `${option} must be a whole number of at least 1, not ${value}.`, "Pass a whole number of 1 or more.");
    }
  }
  const { profiles, rowsSampled } = await profileSample(rows, sampleSize);
  if (rowsSampled === 0) {
    throw usageError("NO_ROWS", "There are no rows to infer from.", "Point at a file that holds a header and at least one row.");
  }
  const available = [...profiles.keys()];
  for (const [option, column] of [
    ["label", options.label],
    ["rowKey", options.rowKey],
  ] as const) {
    if (column !== undefined && !profiles.has(column)) {
      throw usageError(
        option === "label" ? "LABEL_NOT_FOUND" : "ROW_KEY_NOT_FOUND",
        `The ${option === "label" ? "label" : "row key"} column "${column}" is not in the data. Columns: ${available.join(", ")}.`,
        "Pass one of the data's column names.",
        { column, columns: available },
      );
    }
  }
  if (options.rowKey === options.label) {
    throw usageError(
      "ROW_KEY_IS_LABEL",
      `Column "${options.label}" cannot be both the label and the row key.`,
      "Pass another column with --row-key, or leave it out.",
    );
  }

  const warnings: string[] = [];
  const chosen = chooseLabel(profiles.get(options.label)!, rowsSampled, warnings, options);
  const columns: ColumnReport[] = [];
  const features: Feature[] = [];
  let rowKey = options.rowKey;
  for (const profile of profiles.values()) {
    if (profile.name === options.label) {
      columns.push(chosen.report);
    } else if (profile.name === rowKey || (rowKey === undefined && looksLikeRowKey(profile, rowsSampled))) {
      rowKey = profile.name;
      const note = options.rowKey === undefined ? "every value distinct and the name looks like an ID: suggested as the row key" : undefined;
      columns.push({ ...baseReport(profile, rowsSampled), role: "row-key", ...(note ? { note } : {}) });
    } else {
      const { report, feature } = classifyColumn(profile, rowsSampled, maxCategories, warnings);
      columns.push(report);
      if (feature) features.push(feature);
    }
  }

  // Only columns that enter the config are held to its name rule; ignored ones never reach it.
  const invalid = columns.filter((c) => c.role !== "ignored" && !isValidName(c.name)).map((c) => c.name);
  if (invalid.length > 0) {
    throw usageError(
      "INVALID_COLUMN_NAMES",
      `These column names cannot be used: ${invalid.map((n) => JSON.stringify(n)).join(", ")}. A name must start with a letter or _, hold only letters, digits and _, and be at most ${MAX_NAME_LENGTH} characters.`,
      "Rename the columns in the data itself: rows are matched to the schema by column name, so the schema cannot rename them.",
      { columns: invalid },
    );
  }
  if (features.length === 0) {
    throw usageError("NO_FEATURES", "No column of the data can be a feature.", "See the column report for why each column was left out.", {
      columns,
    });
  }
  return { features, label: chosen.label, ...(rowKey !== undefined ? { rowKey } : {}), rowsSampled, columns, warnings };
}
