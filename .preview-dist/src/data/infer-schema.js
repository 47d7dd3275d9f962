import { usageError } from "../errors.js";
import { NON_FINITE, parseNumber, presentText } from "./values.js";
/** The config schema's rule for names; data columns must already obey it, as they are matched by name. */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 63;
const ID_LIKE_NAME = /^(id|key|uuid)$|_id$/i;
/** Label pairs whose positive class is fixed by convention; the first of each is positive. */
const CONVENTIONAL_PAIRS = [
    ["1", "0"], ["true", "false"], ["yes", "no"], ["y", "n"], ["positive", "negative"], ["pos", "neg"], ["t", "f"],
];
/** Non-finite spellings ("NaN", "inf") say nothing about a column's type; validation rejects them later. */
function typedText(value) {
    const text = presentText(value);
    return text === null || NON_FINITE.test(text) ? null : text;
}
async function profileSample(rows, sampleSize) {
    const profiles = new Map();
    let rowsSampled = 0;
    // Breaking out of for-await closes the source, so an endless or huge input stops here.
    for await (const row of rows) {
        rowsSampled += 1;
        for (const [name, value] of Object.entries(row)) {
            let profile = profiles.get(name);
            if (!profile) {
                profile = { name, present: 0, counts: new Map(), numeric: true, allBoolean: true, min: Infinity, max: -Infinity };
                profiles.set(name, profile);
            }
            const text = typedText(value);
            if (text === null)
                continue;
            profile.present += 1;
            profile.counts.set(text, (profile.counts.get(text) ?? 0) + 1);
            profile.allBoolean &&= typeof value === "boolean";
            const number = profile.numeric ? parseNumber(value, text) : null;
            if (number === null) {
                profile.numeric = false;
            }
            else {
                profile.min = Math.min(profile.min, number);
                profile.max = Math.max(profile.max, number);
            }
        }
        if (rowsSampled >= sampleSize)
            break;
    }
    return { profiles, rowsSampled };
}
/** Counts per distinct value, merging texts that are the same number ("1" and "1.0") in numeric columns. */
function distinctCounts(profile) {
    if (!isNumeric(profile))
        return profile.counts;
    const merged = new Map();
    for (const [text, count] of profile.counts) {
        const key = String(Number(text));
        merged.set(key, (merged.get(key) ?? 0) + count);
    }
    return merged;
}
const isNumeric = (profile) => profile.numeric && profile.present > 0;
function looksLikeRowKey(profile, rowsSampled) {
    return ID_LIKE_NAME.test(profile.name) && rowsSampled > 1 && profile.present === rowsSampled && distinctCounts(profile).size === rowsSampled;
}
function baseReport(profile, rowsSampled) {
    const missing = rowsSampled - profile.present;
    return { name: profile.name, role: "ignored", type: null, nullable: missing > 0, missing, distinct: distinctCounts(profile).size };
}
/** Decides what a column other than the label becomes, and the feature it contributes if any. */
function classifyColumn(profile, rowsSampled, maxCategories) {
    const report = baseReport(profile, rowsSampled);
    if (profile.present === 0) {
        return { report: { ...report, note: "no values in the sample" }, feature: undefined };
    }
    if (isNumeric(profile)) {
        const numeric = { ...report, role: "feature", type: "numeric", min: profile.min, max: profile.max };
        const note = "observed range only: a sample's range is not written as bounds, as it would quarantine legitimate later values";
        return { report: { ...numeric, note }, feature: { name: profile.name, type: "numeric", nullable: report.nullable } };
    }
    const values = [...profile.counts.keys()].sort();
    if (values.length <= maxCategories) {
        const feature = { name: profile.name, type: "categorical", values, nullable: report.nullable };
        return { report: { ...report, role: "feature", type: "categorical", values }, feature };
    }
    const note = `${values.length} distinct values (more than ${maxCategories}): an ID or free text, not a feature`;
    return { report: { ...report, note }, feature: undefined };
}
function chooseLabel(profile, rowsSampled, warnings) {
    const counts = distinctCounts(profile);
    if (counts.size !== 2) {
        const seen = [...counts.keys()].sort().slice(0, 10);
        throw usageError("LABEL_NOT_BINARY", `Label column "${profile.name}" must hold exactly two values; the sample holds ${counts.size}${seen.length ? `: ${seen.join(", ")}` : ""}.`, "Choose a column with two classes, or map the label to two values in the data.", { label: profile.name, values: seen, distinct: counts.size });
    }
    const [a, b] = [...counts.entries()];
    const [positive, negative] = positiveFirst(a, b);
    const missing = rowsSampled - profile.present;
    if (missing > 0) {
        warnings.push(`${missing} of ${rowsSampled} sampled rows have no label "${profile.name}"; they are unlabelled and cannot train or evaluate.`);
    }
    const typed = (text) => (isNumeric(profile) ? Number(text) : profile.allBoolean ? text === "true" : text);
    const report = {
        ...baseReport(profile, rowsSampled),
        role: "label",
        type: isNumeric(profile) ? "numeric" : "categorical",
        values: [positive, negative],
        note: `positive "${positive}", negative "${negative}"`,
    };
    return { label: { name: profile.name, positive: typed(positive), negative: typed(negative) }, report };
}
/** The conventional class when the pair has one, else the minority class, ties to the larger text. */
function positiveFirst(a, b) {
    const lower = [a[0].toLowerCase(), b[0].toLowerCase()];
    for (const [yes, no] of CONVENTIONAL_PAIRS) {
        if (lower[0] === yes && lower[1] === no)
            return [a[0], b[0]];
        if (lower[0] === no && lower[1] === yes)
            return [b[0], a[0]];
    }
    const aFirst = a[1] < b[1] || (a[1] === b[1] && a[0] > b[0]);
    return aFirst ? [a[0], b[0]] : [b[0], a[0]];
}
const isValidName = (name) => VALID_NAME.test(name) && name.length <= MAX_NAME_LENGTH;
/**
 * Proposes a project schema from a sample of a user's data, as TFX's SchemaGen does: which
 * columns are numeric or categorical features, which is the label and which class is positive,
 * and which column identifies a row. The report says why each column was treated as it was.
 */
export async function inferSchema(rows, options) {
    const sampleSize = options.sampleSize ?? 10_000;
    const maxCategories = options.maxCategories ?? 50;
    for (const [option, value] of [["sampleSize", sampleSize], ["maxCategories", maxCategories]]) {
        if (!Number.isInteger(value) || value < 1) {
            throw usageError("INVALID_OPTION", `${option} must be a whole number of at least 1, not ${value}.`);
        }
    }
    const { profiles, rowsSampled } = await profileSample(rows, sampleSize);
    if (rowsSampled === 0) {
        throw usageError("NO_ROWS", "There are no rows to infer from.", "Point at a file that holds a header and at least one row.");
    }
    const available = [...profiles.keys()];
    for (const [option, column] of [["label", options.label], ["rowKey", options.rowKey]]) {
        if (column !== undefined && !profiles.has(column)) {
            throw usageError(option === "label" ? "LABEL_NOT_FOUND" : "ROW_KEY_NOT_FOUND", `The ${option === "label" ? "label" : "row key"} column "${column}" is not in the data. Columns: ${available.join(", ")}.`, "Pass one of the data's column names.", { column, columns: available });
        }
    }
    if (options.rowKey === options.label) {
        throw usageError("ROW_KEY_IS_LABEL", `Column "${options.label}" cannot be both the label and the row key.`);
    }
    const warnings = [];
    const chosen = chooseLabel(profiles.get(options.label), rowsSampled, warnings);
    const columns = [];
    const features = [];
    let rowKey = options.rowKey;
    for (const profile of profiles.values()) {
        if (profile.name === options.label) {
            columns.push(chosen.report);
        }
        else if (profile.name === rowKey || (rowKey === undefined && looksLikeRowKey(profile, rowsSampled))) {
            rowKey = profile.name;
            const note = options.rowKey === undefined ? "every value distinct and the name looks like an ID: suggested as the row key" : undefined;
            columns.push({ ...baseReport(profile, rowsSampled), role: "row-key", ...(note ? { note } : {}) });
        }
        else {
            const { report, feature } = classifyColumn(profile, rowsSampled, maxCategories);
            columns.push(report);
            if (feature)
                features.push(feature);
        }
    }
    // Only columns that enter the config are held to its name rule; ignored ones never reach it.
    const invalid = columns.filter((c) => c.role !== "ignored" && !isValidName(c.name)).map((c) => c.name);
    if (invalid.length > 0) {
        throw usageError("INVALID_COLUMN_NAMES", `These column names cannot be used: ${invalid.map((n) => JSON.stringify(n)).join(", ")}. A name must start with a letter or _, hold only letters, digits and _, and be at most ${MAX_NAME_LENGTH} characters.`, "Rename the columns in the data itself: rows are matched to the schema by column name, so the schema cannot rename them.", { columns: invalid });
    }
    if (features.length === 0) {
        throw usageError("NO_FEATURES", "No column of the data can be a feature.", "See the column report for why each column was left out.", { columns });
    }
    return { features, label: chosen.label, ...(rowKey !== undefined ? { rowKey } : {}), rowsSampled, columns, warnings };
}
//# sourceMappingURL=infer-schema.js.map