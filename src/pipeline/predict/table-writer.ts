import type { DataFormat } from "../../data/sources/formats.js";
import type { CsvLine } from "../../data/sources/csv-parser.js";
import type { RawRow, RawValue } from "../../data/types.js";
import type { ByteSink } from "./sink.js";

/** A row as it came in: a CSV line still in its input buffer, CSV fields, or a JSON object. */
export type InputRow = CsvLine | { line: number; fields: string[] } | { line: number; row: RawRow };

/** A value appended after the input columns (probability, label, ...), typed for JSON output. */
export type AddedValue = string | number | boolean | null;

const NEEDS_QUOTES = /[",\t\r\n]|^\s|\s$/;

/** A CSV/TSV field: quoted when it holds the delimiter, a quote, a line break or edge spaces. */
function field(text: string, delimiter: string): string {
  if (!NEEDS_QUOTES.test(text) || (delimiter === "\t" && !/["\t\r\n]/.test(text))) return text;
  return `"${text.replace(/"/g, '""')}"`;
}

function textOf(value: RawValue | undefined): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Writes rows in one of the formats mlops reads: every input column as received, then the added
 * columns. The header is written with the first row, when the input's columns are known (a CSV
 * header, or the first JSON object's keys). A CSV line that needs no change is copied byte for
 * byte from the input buffer with its added fields after it: the hot path of CSV to CSV.
 */
export class TableWriter {
  private columns: string[] | undefined;
  private rows = 0;
  private readonly delimiter: string;
  private readonly fieldBytes = new Map<AddedValue, Buffer>();

  constructor(
    private readonly sink: ByteSink,
    private readonly format: DataFormat,
    /** The input's delimiter when it is CSV/TSV: lines in the same delimiter are copied as they are. */
    private readonly inputDelimiter: string | undefined,
    private readonly added: readonly string[],
    private readonly inputColumns: () => string[] | undefined,
  ) {
    this.delimiter = format === "tsv" ? "\t" : ",";
  }

  /** The added columns' names as written: renamed predicted_<name> where the input has the name. */
  static addedNames(names: readonly string[], inputColumns: readonly string[]): string[] {
    const taken = new Set(inputColumns);
    return names.map((name) => (taken.has(name) ? `predicted_${name}` : name));
  }

  write(input: InputRow, values: readonly AddedValue[]): void {
    const columns = (this.columns ??= this.start(input));
    const sink = this.sink;
    if (this.format === "csv" || this.format === "tsv") {
      const d = this.delimiter;
      if ("buffer" in input && this.inputDelimiter === d) sink.bytes(input.buffer, input.start, input.end);
      else
        sink.text(
          this.inputFields(input, columns)
            .map((text) => field(text, d))
            .join(d),
        );
      for (const value of values) {
        if (typeof value === "number") sink.ascii(d + String(value));
        else {
          // Labels and the version repeat on every row: their quoted bytes are made once.
          let bytes = this.fieldBytes.get(value);
          if (bytes === undefined) this.fieldBytes.set(value, (bytes = Buffer.from(d + field(value === null ? "" : String(value), d))));
          sink.bytes(bytes, 0, bytes.length);
        }
      }
      sink.newline();
    } else {
      let object: Record<string, unknown>;
      if ("row" in input) object = { ...input.row };
      else {
        const fields = this.inputFields(input, columns);
        object = {};
        columns.forEach((name, i) => (object[name] = fields[i] ?? null));
      }
      this.added.forEach((name, i) => (object[name] = values[i]));
      const text = JSON.stringify(object);
      sink.text(this.format === "json" ? `${this.rows === 0 ? "" : ",\n"}${text}` : `${text}\n`);
    }
    this.rows += 1;
  }

  /** Closes the document: a JSON array needs its brackets even with no rows. */
  finish(): void {
    if (this.format === "json") this.sink.text(this.rows === 0 ? "[]\n" : "\n]\n");
    else if (this.columns === undefined && this.inputColumns() !== undefined) this.start(undefined);
  }

  private start(first: InputRow | undefined): string[] {
    const columns = this.inputColumns() ?? (first !== undefined && "row" in first ? Object.keys(first.row) : []);
    if (this.format === "json") this.sink.text("[\n");
    else if (this.format === "csv" || this.format === "tsv") {
      this.sink.text(`${[...columns, ...this.added].map((name) => field(name, this.delimiter)).join(this.delimiter)}\n`);
    }
    return columns;
  }

  private inputFields(input: InputRow, columns: string[]): string[] {
    if ("row" in input) return columns.map((name) => textOf(input.row[name]));
    if ("fields" in input) return input.fields;
    return input.buffer.toString("utf8", input.start, input.end).split(this.inputDelimiter ?? ",");
  }
}
