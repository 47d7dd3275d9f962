import { usageError } from "../errors.js";
import { baseReport, NUMERIC_TOLERANCE, type ColumnProfile, type ColumnReport, type InferOptions, type LabelClass } from "./column-profile.js";
import { DECIMAL } from "./values.js";

/** Label pairs whose positive class is fixed by convention; the first of each is positive. */
const CONVENTIONAL_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ["1", "0"],
  ["true", "false"],
  ["yes", "no"],
  ["y", "n"],
  ["positive", "negative"],
  ["pos", "neg"],
  ["t", "f"],
];

const isNumberText = (text: string) => DECIMAL.test(text) && Number.isFinite(Number(text));
/** The class a label text stands for: "1" and "1.0" are one class; other texts are themselves. */
const classKey = (text: string) => (isNumberText(text) ? String(Number(text)) : text);

function labelCounts(profile: ColumnProfile): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [text, count] of profile.counts) counts.set(classKey(text), (counts.get(classKey(text)) ?? 0) + count);
  return counts;
}

/**
 * The label's two classes. Exactly two values: those. More: the ones named by --positive and
 * --negative, else the two dominant values when every other value together is a stray share of
 * the rows (at most 1%, as for numeric columns), with a warning: collect quarantines those rows.
 */
export function chooseLabel(profile: ColumnProfile, rowsSampled: number, warnings: string[], options: Pick<InferOptions, "positive" | "negative">) {
  const counts = labelCounts(profile);
  const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const seen = byCount.slice(0, 10).map(([value, count]) => `${value} (${count})`);
  const named = (option: "positive" | "negative") => {
    const value = options[option];
    if (value === undefined) return undefined;
    const key = classKey(value.trim());
    if (!counts.has(key)) {
      throw usageError(
        "LABEL_VALUE_NOT_FOUND",
        `--${option} ${JSON.stringify(value)} is not a value of label column "${profile.name}"; the sample holds ${seen.join(", ")}.`,
        "Pass one of the label's values.",
      );
    }
    return key;
  };
  const wantedPositive = named("positive");
  const wantedNegative = named("negative");
  if (wantedPositive !== undefined && wantedPositive === wantedNegative) {
    throw usageError("LABEL_VALUES_SAME", "--positive and --negative name the same value.", "Name the two classes of the label.");
  }
  const others = byCount.map(([value]) => value).filter((value) => value !== wantedPositive && value !== wantedNegative);
  const pair = [wantedPositive ?? others.shift(), wantedNegative ?? others.shift()];
  if (pair[0] === undefined || pair[1] === undefined) {
    throw usageError(
      "LABEL_NOT_BINARY",
      `Label column "${profile.name}" must hold two values; the sample holds ${counts.size}${seen.length ? `: ${seen.join(", ")}` : ""}.`,
      "Choose a column with two classes.",
      { label: profile.name, values: seen, distinct: counts.size },
    );
  }
  const strays = byCount.filter(([value]) => value !== pair[0] && value !== pair[1]);
  const strayRows = strays.reduce((sum, [, count]) => sum + count, 0);
  const chosenByUser = wantedPositive !== undefined && wantedNegative !== undefined;
  if (strays.length > 0 && !chosenByUser && strayRows > profile.present * NUMERIC_TOLERANCE) {
    throw usageError(
      "LABEL_NOT_BINARY",
      `Label column "${profile.name}" must hold two values; the sample holds ${counts.size}: ${seen.join(", ")}.`,
      "Name the two classes with --positive VALUE --negative VALUE (rows with other values are quarantined), or map the label to two values in the data.",
      { label: profile.name, values: seen, distinct: counts.size },
    );
  }
  if (strays.length > 0) {
    const shown = strays
      .slice(0, 5)
      .map(([value, count]) => `${JSON.stringify(value)} ×${count}`)
      .join(", ");
    warnings.push(
      `Label column "${profile.name}" also holds ${shown} (${strayRows} of ${profile.present} labelled rows): only ${JSON.stringify(pair[0])} and ${JSON.stringify(pair[1])} are classes; collect quarantines the other rows.`,
    );
  }
  const countOf = (value: string): [string, number] => [value, counts.get(value) ?? 0];
  let [positive, negative] = positiveFirst(countOf(pair[0]), countOf(pair[1]));
  if (wantedPositive !== undefined) [positive, negative] = [wantedPositive, pair[1]];
  else if (wantedNegative !== undefined) [positive, negative] = [pair[0], wantedNegative];
  const missing = rowsSampled - profile.present;
  if (missing > 0) {
    warnings.push(`${missing} of ${rowsSampled} sampled rows have no label "${profile.name}"; they are unlabelled and cannot train or evaluate.`);
  }
  const numeric = isNumberText(positive) && isNumberText(negative);
  const typed = (text: string): LabelClass => (numeric ? Number(text) : profile.allBoolean ? text === "true" : text);
  const report: ColumnReport = {
    ...baseReport(profile, rowsSampled),
    distinct: counts.size,
    role: "label",
    type: numeric ? "numeric" : "categorical",
    values: [positive, negative],
    note: `positive "${positive}", negative "${negative}"${strays.length > 0 ? `; ${strayRows} row${strayRows === 1 ? "" : "s"} with other values` : ""}`,
  };
  return { label: { name: profile.name, positive: typed(positive), negative: typed(negative) }, report };
}

/** The conventional class when the pair has one, else the minority class, ties to the larger text. */
function positiveFirst(a: [string, number], b: [string, number]): [string, string] {
  const lower = [a[0].toLowerCase(), b[0].toLowerCase()];
  for (const [yes, no] of CONVENTIONAL_PAIRS) {
    if (lower[0] === yes && lower[1] === no) return [a[0], b[0]];
    if (lower[0] === no && lower[1] === yes) return [b[0], a[0]];
  }
  const aFirst = a[1] < b[1] || (a[1] === b[1] && a[0] > b[0]);
  return aFirst ? [a[0], b[0]] : [b[0], a[0]];
}
