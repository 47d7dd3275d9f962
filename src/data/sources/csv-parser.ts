/**
 * A streaming RFC 4180 CSV parser over bytes. csv-parse took 6.3 s for a million 21-column rows
 * here, more than the whole ingest budget, so the common case costs almost nothing: a line
 * without quotes is not split at all but handed on as a span of the input buffer, which ingest
 * validates in place and copies to the database byte for byte. Quoted fields (embedded
 * delimiters, quotes, newlines) go through a small state machine and come out as strings.
 * Malformed records are yielded as errors with their line, never thrown, so the caller can
 * quarantine them and go on. Records come in arrays, one per input chunk: an await per record
 * would cost more than the parsing. The input must be UTF-8 (see text.ts).
 */
import { cutRawBytes } from "./raw-text.js";

export type CsvRecord = CsvLine | { line: number; fields: string[] } | { line: number; error: string; text: string };

/** A record without quotes: bytes start..end of buffer (no line break), not yet split. */
export interface CsvLine {
  line: number;
  buffer: Buffer;
  start: number;
  end: number;
}

export interface CsvOptions {
  delimiter?: string;
  /** Longest record accepted, in bytes; longer ones become errors (the rest of the line is skipped). */
  maxRecordLength?: number;
}

const DEFAULT_MAX_RECORD = 1 << 20;
const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;

export function isCsvLine(record: object): record is CsvLine {
  return "buffer" in record;
}

/** The fields of a line without quotes. */
export function splitCsvLine(record: CsvLine, delimiter: string): string[] {
  return record.buffer.toString("utf8", record.start, record.end).split(delimiter);
}

export async function* parseCsv(chunks: AsyncIterable<Buffer>, options: CsvOptions = {}): AsyncGenerator<CsvRecord[]> {
  const delimiter = (options.delimiter ?? ",").charCodeAt(0);
  const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD;
  let buffer: Buffer = Buffer.alloc(0);
  let line = 1;
  let skippingLongLine = false;

  for await (const chunk of chunks) {
    const out: CsvRecord[] = [];
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    let pos = 0;
    if (skippingLongLine) {
      const newline = buffer.indexOf(NEWLINE);
      if (newline === -1) {
        buffer = Buffer.alloc(0);
        continue;
      }
      pos = newline + 1;
      line += 1;
      skippingLongLine = false;
    }
    let nextQuote = buffer.indexOf(QUOTE, pos);
    for (;;) {
      const newline = buffer.indexOf(NEWLINE, pos);
      if (newline === -1) break;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buffer.indexOf(QUOTE, pos);
      if (nextQuote === -1 || nextQuote > newline) {
        const end = newline > pos && buffer[newline - 1] === CR ? newline - 1 : newline;
        if (end - pos > maxRecord) out.push(tooLong(line, buffer, pos, maxRecord));
        else if (end > pos) out.push({ line, buffer, start: pos, end });
        pos = newline + 1;
        line += 1;
        continue;
      }
      const quoted = parseQuotedRecord(buffer, pos, delimiter, false);
      if (quoted === undefined) break;
      if ("error" in quoted) out.push({ line, error: quoted.error, text: cutRawBytes(buffer, pos, quoted.end) });
      else out.push({ line, fields: quoted.fields });
      line += quoted.newlines + 1;
      pos = quoted.end;
    }
    buffer = buffer.subarray(pos);
    if (buffer.length > maxRecord) {
      out.push(tooLong(line, buffer, 0, maxRecord));
      const newline = buffer.indexOf(NEWLINE);
      skippingLongLine = newline === -1;
      buffer = newline === -1 ? Buffer.alloc(0) : buffer.subarray(newline + 1);
      if (newline !== -1) line += 1;
    }
    if (out.length > 0) yield out;
  }
  if (buffer.length > 0 && !skippingLongLine) {
    const last = parseQuotedRecord(buffer, 0, delimiter, true);
    if (last === undefined) return;
    if ("error" in last) yield [{ line, error: last.error, text: cutRawBytes(buffer, 0, buffer.length) }];
    else if (!(last.fields.length === 1 && last.fields[0] === "")) yield [{ line, fields: last.fields }];
  }
}

function tooLong(line: number, buffer: Buffer, start: number, max: number): CsvRecord {
  return {
    line,
    error: `record longer than ${max} bytes`,
    text: `${buffer.toString("utf8", start, start + 200)}… [cut: the record is longer than ${max} bytes]`,
  };
}

type QuotedResult = { fields: string[]; end: number; newlines: number } | { error: string; end: number; newlines: number };

/**
 * Parses one record starting at `start`. Returns undefined when the buffer ends before the
 * record does (more input needed), unless `final`, when an open quote is an error. A field is
 * decoded from runs of bytes between its quotes, so multi-byte characters stay whole.
 */
function parseQuotedRecord(bytes: Buffer, start: number, delimiter: number, final: boolean): QuotedResult | undefined {
  const fields: string[] = [];
  let field = "";
  let run = start;
  let i = start;
  let newlines = 0;
  let inQuotes = false;
  let afterQuote = false;
  let error: string | undefined;
  const flush = (to: number) => {
    if (to > run) field += bytes.toString("utf8", run, to);
  };
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (inQuotes) {
      if (byte === QUOTE) {
        if (bytes[i + 1] === QUOTE) {
          flush(i + 1);
          i += 2;
          run = i;
          continue;
        }
        if (i + 1 >= bytes.length && !final) return undefined;
        flush(i);
        inQuotes = false;
        afterQuote = true;
        run = i + 1;
      } else if (byte === NEWLINE) {
        newlines += 1;
      }
      i += 1;
      continue;
    }
    if (byte === delimiter || byte === NEWLINE) {
      if (!afterQuote) flush(byte === NEWLINE && i > run && bytes[i - 1] === CR ? i - 1 : i);
      fields.push(field);
      field = "";
      afterQuote = false;
      run = i + 1;
      if (byte === NEWLINE) return error === undefined ? { fields, end: i + 1, newlines } : { error, end: i + 1, newlines };
    } else if (byte === QUOTE && i === run && field === "" && !afterQuote) {
      inQuotes = true;
      run = i + 1;
    } else if (afterQuote && byte !== CR) {
      error ??= `unexpected character after a closing quote in field ${fields.length + 1}`;
    }
    i += 1;
  }
  if (!final) return undefined;
  if (inQuotes) return { error: "quote opened but never closed before the end of the input", end: i, newlines };
  if (!afterQuote) flush(i > run && bytes[i - 1] === CR ? i - 1 : i);
  fields.push(field);
  return error === undefined ? { fields, end: i, newlines } : { error, end: i, newlines };
}
