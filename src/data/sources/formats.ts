import { usageError } from "../../errors.js";
import type { RawRow } from "../types.js";
import { isCsvLine, parseCsv, splitCsvLine, type CsvLine } from "./csv-parser.js";
import { cutRawText } from "./raw-text.js";

/**
 * One record of a source: a row (an object from JSON sources; fields in header order from CSV,
 * which saves building an object per row), a CSV line not yet split (the ingest hot path reads
 * it in place), or a record that could not be read as a row.
 */
export type SourceRecord =
  | { line: number; row: RawRow }
  | { line: number; fields: string[] }
  | CsvLine
  | { line: number; error: string; raw: string };

/** A record read: a CSV line is split, and becomes an error when its field count is wrong. */
export type ReadRecord = Exclude<SourceRecord, CsvLine>;

export function readRecord(record: SourceRecord, state: FormatState): ReadRecord {
  if (!isCsvLine(record)) return record;
  const fields = splitCsvLine(record, state.delimiter ?? ",");
  return fieldCountChecked(record.line, fields, state);
}

/** A readable record as an object, whichever form it came in. */
export function recordRow(record: { row: RawRow } | { fields: string[] }, columns: readonly string[] | undefined): RawRow {
  if ("row" in record) return record.row;
  const row: RawRow = {};
  (columns ?? []).forEach((name, i) => (row[name] = record.fields[i] ?? null));
  return row;
}

export type DataFormat = "csv" | "tsv" | "jsonl" | "json";

export interface FormatState {
  /** The columns the source declared (CSV header), once read. */
  columns?: string[];
  /** The CSV delimiter. */
  delimiter?: string;
}

/**
 * CSV with a header row. A record with the wrong number of fields becomes an error record
 * (quarantined with its line) rather than a row with shifted values; lines without quotes are
 * passed on unsplit, and checked when read (readRecord).
 */
export async function* csvRecords(bytes: AsyncIterable<Buffer>, label: string, state: FormatState, delimiter = ","): AsyncGenerator<SourceRecord[]> {
  state.delimiter = delimiter;
  for await (const records of parseCsv(bytes, { delimiter })) {
    let start = 0;
    if (state.columns === undefined) {
      const first = records[0]!;
      if ("error" in first)
        throw usageError(
          "CSV_HEADER_INVALID",
          `${label}: the header row (line ${first.line}) cannot be read: ${first.error}.`,
          "Fix the first line of the file: it must name the columns, separated by commas.",
        );
      state.columns = readHeader(isCsvLine(first) ? splitCsvLine(first, delimiter) : first.fields, label);
      start = 1;
    }
    const out: SourceRecord[] = [];
    for (let i = start; i < records.length; i += 1) {
      const record = records[i]!;
      if (isCsvLine(record)) out.push(record);
      else if ("error" in record) out.push({ line: record.line, error: record.error, raw: record.text });
      else out.push(fieldCountChecked(record.line, record.fields, state));
    }
    if (out.length > 0) yield out;
  }
  if (state.columns === undefined)
    throw usageError("INPUT_EMPTY", `${label} is empty: no header row and no data.`, "Check the path or the export that produced it.");
}

function fieldCountChecked(line: number, fields: string[], state: FormatState): ReadRecord {
  const expected = state.columns?.length ?? fields.length;
  if (fields.length === expected) return { line, fields };
  return { line, error: `expected ${expected} fields, found ${fields.length}`, raw: cutRawText(fields.join(state.delimiter ?? ",")) };
}

function readHeader(fields: string[], label: string): string[] {
  const names = fields.map((name) => name.trim());
  const seen = new Set<string>();
  const duplicates = names.filter((name) => (seen.has(name) ? true : (seen.add(name), false)));
  if (duplicates.length > 0) {
    throw usageError(
      "CSV_HEADER_INVALID",
      `${label}: the header names ${[...new Set(duplicates)].join(", ")} more than once.`,
      "Give every column a distinct name.",
    );
  }
  return names;
}

/** JSON Lines: one object per line; a line that is not a JSON object becomes an error record. */
export async function* jsonLinesRecords(text: AsyncIterable<string>): AsyncGenerator<SourceRecord[]> {
  let rest = "";
  let line = 0;
  const parseLine = (content: string, out: SourceRecord[]) => {
    line += 1;
    const trimmed = content.trim();
    if (trimmed === "") return;
    try {
      const value: unknown = JSON.parse(trimmed);
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        out.push({ line, error: "not a JSON object", raw: cutRawText(trimmed) });
      } else out.push({ line, row: value as RawRow });
    } catch (error) {
      out.push({ line, error: `invalid JSON: ${(error as Error).message}`, raw: cutRawText(trimmed) });
    }
  };
  for await (const chunk of text) {
    const out: SourceRecord[] = [];
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const content of lines) parseLine(content, out);
    if (out.length > 0) yield out;
  }
  const out: SourceRecord[] = [];
  if (rest.trim() !== "") parseLine(rest, out);
  if (out.length > 0) yield out;
}

const isJsonSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * A JSON array of objects (what many HTTP APIs return), streamed: the text is scanned for the
 * commas between top-level elements (outside strings, at depth one), and each element is parsed
 * alone, so memory holds one element, not the document. Parsing the whole array first took
 * 1.12 GB for a 185 MB file (the same rows as JSON Lines: 273 MB); see bench/json-array-memory.mjs.
 * Element numbers stand in for line numbers in quarantine and errors.
 */
export async function* jsonArrayRecords(text: AsyncIterable<string>, label: string): AsyncGenerator<SourceRecord[]> {
  const hint = "Send a JSON array of objects, or JSON Lines.";
  const invalid = (why: string) => usageError("JSON_INVALID", `${label} is not valid JSON: ${why}.`, hint);
  let state = "before" as "before" | "inside" | "after";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pending = "";
  let element = 0;
  let out: SourceRecord[] = [];
  const finish = (content: string) => {
    const trimmed = content.trim();
    if (trimmed === "") throw invalid(`element ${element + 1} is empty (a stray comma?)`);
    element += 1;
    let item: unknown;
    try {
      item = JSON.parse(trimmed);
    } catch (error) {
      throw invalid(`element ${element}: ${(error as Error).message}`);
    }
    out.push(
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? { line: element, row: item as RawRow }
        : { line: element, error: "not a JSON object", raw: cutRawText(trimmed) },
    );
  };
  for await (const chunk of text) {
    let start = 0;
    let nextBackslash = -2;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (state === "inside") {
        if (inString) {
          // Jump to the string's end rather than stepping through it: strings are most of the text.
          if (escaped) {
            escaped = false;
            continue;
          }
          if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf("\\", i);
          const quote = chunk.indexOf('"', i);
          if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
            i = nextBackslash;
            escaped = true;
          } else if (quote === -1) {
            i = chunk.length;
          } else {
            i = quote;
            inString = false;
          }
        } else if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth += 1;
        else if (c === 125 || c === 93) {
          depth -= 1;
          if (depth === 0) {
            const last = pending + chunk.slice(start, i);
            pending = "";
            // "[]" holds no element; "[1,]" ends with an empty one.
            if (element > 0 || last.trim() !== "") finish(last);
            state = "after";
          }
        } else if (c === 44 && depth === 1) {
          finish(pending + chunk.slice(start, i));
          pending = "";
          start = i + 1;
        }
      } else if (state === "before") {
        if (isJsonSpace(c)) continue;
        if (c === 123) throw usageError("JSON_INVALID", `${label} is JSON but not an array of rows.`, hint);
        if (c !== 91) throw invalid("it does not start with [");
        state = "inside";
        depth = 1;
        start = i + 1;
      } else if (!isJsonSpace(c)) {
        throw invalid("there is more text after the array's closing ]");
      }
    }
    if (state === "inside") pending += chunk.slice(start);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  if (state !== "after") throw invalid(state === "before" ? "it is empty" : "it ends before the array's closing ]");
}
