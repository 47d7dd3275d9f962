import { usageError } from "../../errors.js";
import { isCsvLine, parseCsv, splitCsvLine } from "./csv-parser.js";
export function readRecord(record, state) {
    if (!isCsvLine(record))
        return record;
    const fields = splitCsvLine(record, state.delimiter ?? ",");
    return fieldCountChecked(record.line, fields, state);
}
/** A readable record as an object, whichever form it came in. */
export function recordRow(record, columns) {
    if ("row" in record)
        return record.row;
    const row = {};
    (columns ?? []).forEach((name, i) => (row[name] = record.fields[i] ?? null));
    return row;
}
/**
 * CSV with a header row. A record with the wrong number of fields becomes an error record
 * (quarantined with its line) rather than a row with shifted values; lines without quotes are
 * passed on unsplit, and checked when read (readRecord).
 */
export async function* csvRecords(bytes, label, state, delimiter = ",") {
    state.delimiter = delimiter;
    for await (const records of parseCsv(bytes, { delimiter })) {
        let start = 0;
        if (state.columns === undefined) {
            const first = records[0];
            if ("error" in first)
                throw usageError("CSV_HEADER_INVALID", `${label}: the header row (line ${first.line}) cannot be read: ${first.error}.`);
            state.columns = readHeader(isCsvLine(first) ? splitCsvLine(first, delimiter) : first.fields, label);
            start = 1;
        }
        const out = [];
        for (let i = start; i < records.length; i += 1) {
            const record = records[i];
            if (isCsvLine(record))
                out.push(record);
            else if ("error" in record)
                out.push({ line: record.line, error: record.error, raw: record.text });
            else
                out.push(fieldCountChecked(record.line, record.fields, state));
        }
        if (out.length > 0)
            yield out;
    }
    if (state.columns === undefined)
        throw usageError("INPUT_EMPTY", `${label} is empty: no header row and no data.`, "Check the path or the export that produced it.");
}
function fieldCountChecked(line, fields, state) {
    const expected = state.columns?.length ?? fields.length;
    if (fields.length === expected)
        return { line, fields };
    return { line, error: `expected ${expected} fields, found ${fields.length}`, raw: fields.join(state.delimiter ?? ",").slice(0, 1000) };
}
function readHeader(fields, label) {
    const names = fields.map((name) => name.trim());
    const seen = new Set();
    const duplicates = names.filter((name) => (seen.has(name) ? true : (seen.add(name), false)));
    if (duplicates.length > 0) {
        throw usageError("CSV_HEADER_INVALID", `${label}: the header names ${[...new Set(duplicates)].join(", ")} more than once.`, "Give every column a distinct name.");
    }
    return names;
}
/** JSON Lines: one object per line; a line that is not a JSON object becomes an error record. */
export async function* jsonLinesRecords(text) {
    let rest = "";
    let line = 0;
    const parseLine = (content, out) => {
        line += 1;
        const trimmed = content.trim();
        if (trimmed === "")
            return;
        try {
            const value = JSON.parse(trimmed);
            if (value === null || typeof value !== "object" || Array.isArray(value)) {
                out.push({ line, error: "not a JSON object", raw: trimmed.slice(0, 1000) });
            }
            else
                out.push({ line, row: value });
        }
        catch (error) {
            out.push({ line, error: `invalid JSON: ${error.message}`, raw: trimmed.slice(0, 1000) });
        }
    };
    for await (const chunk of text) {
        const out = [];
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const content of lines)
            parseLine(content, out);
        if (out.length > 0)
            yield out;
    }
    const out = [];
    if (rest.trim() !== "")
        parseLine(rest, out);
    if (out.length > 0)
        yield out;
}
/** A JSON array of objects (what many HTTP APIs return). It is read whole, then streamed. */
export async function* jsonArrayRecords(text, label) {
    let whole = "";
    for await (const chunk of text)
        whole += chunk;
    let value;
    try {
        value = JSON.parse(whole);
    }
    catch (error) {
        throw usageError("JSON_INVALID", `${label} is not valid JSON: ${error.message}.`, "Send a JSON array of objects, or JSON Lines.");
    }
    if (!Array.isArray(value))
        throw usageError("JSON_INVALID", `${label} is JSON but not an array of rows.`, "Send a JSON array of objects, or JSON Lines.");
    const batchSize = 10_000;
    for (let start = 0; start < value.length; start += batchSize) {
        yield value.slice(start, start + batchSize).map((item, index) => {
            const line = start + index + 1;
            return item !== null && typeof item === "object" && !Array.isArray(item)
                ? { line, row: item }
                : { line, error: "not a JSON object", raw: JSON.stringify(item).slice(0, 1000) };
        });
    }
}
//# sourceMappingURL=formats.js.map