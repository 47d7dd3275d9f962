/**
 * A streaming RFC 4180 CSV parser. csv-parse took 6.3 s for a million 21-column rows here, more
 * than the whole ingest budget, so the common case takes a fast path: a line without quotes is
 * split directly. Quoted fields (embedded delimiters, quotes, newlines) go through a small state
 * machine. Malformed records are yielded as errors with their line, never thrown, so the caller
 * can quarantine them and go on. Records come in arrays, one per input chunk: an await per
 * record would cost more than the parsing.
 */
export type CsvRecord =
  | { line: number; fields: string[] }
  | { line: number; error: string; text: string };

export interface CsvOptions {
  delimiter?: string;
  /** Longest record accepted; longer ones become errors (the rest of the line is skipped). */
  maxRecordLength?: number;
}

const DEFAULT_MAX_RECORD = 1 << 20;

export async function* parseCsv(chunks: AsyncIterable<string>, options: CsvOptions = {}): AsyncGenerator<CsvRecord[]> {
  const delimiter = options.delimiter ?? ",";
  const maxRecord = options.maxRecordLength ?? DEFAULT_MAX_RECORD;
  let buffer = "";
  let line = 1;
  let skippingLongLine = false;

  for await (const chunk of chunks) {
    const out: CsvRecord[] = [];
    buffer = buffer === "" ? chunk : buffer + chunk;
    let pos = 0;
    if (skippingLongLine) {
      const newline = buffer.indexOf("\n");
      if (newline === -1) {
        buffer = "";
        continue;
      }
      pos = newline + 1;
      line += 1;
      skippingLongLine = false;
    }
    let nextQuote = buffer.indexOf('"', pos);
    for (;;) {
      const newline = buffer.indexOf("\n", pos);
      if (newline === -1) break;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buffer.indexOf('"', pos);
      if (nextQuote === -1 || nextQuote > newline) {
        const end = newline > pos && buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        if (end - pos > maxRecord) out.push(tooLong(line, buffer.slice(pos, pos + 200), maxRecord));
        else if (end > pos) out.push({ line, fields: buffer.slice(pos, end).split(delimiter) });
        pos = newline + 1;
        line += 1;
        continue;
      }
      const quoted = parseQuotedRecord(buffer, pos, delimiter, false);
      if (quoted === undefined) break;
      if ("error" in quoted) out.push({ line, error: quoted.error, text: buffer.slice(pos, quoted.end).slice(0, 1000) });
      else out.push({ line, fields: quoted.fields });
      line += quoted.newlines + 1;
      pos = quoted.end;
    }
    buffer = buffer.slice(pos);
    if (buffer.length > maxRecord) {
      out.push(tooLong(line, buffer.slice(0, 200), maxRecord));
      const newline = buffer.indexOf("\n");
      skippingLongLine = newline === -1;
      buffer = newline === -1 ? "" : buffer.slice(newline + 1);
      if (newline !== -1) line += 1;
    }
    if (out.length > 0) yield out;
  }
  if (buffer !== "" && !skippingLongLine) {
    const last = parseQuotedRecord(buffer, 0, delimiter, true);
    if (last === undefined) return;
    if ("error" in last) yield [{ line, error: last.error, text: buffer.slice(0, 1000) }];
    else if (!(last.fields.length === 1 && last.fields[0] === "")) yield [{ line, fields: last.fields }];
  }
}

function tooLong(line: number, start: string, max: number): CsvRecord {
  return { line, error: `record longer than ${max} characters`, text: start };
}

type QuotedResult = { fields: string[]; end: number; newlines: number } | { error: string; end: number; newlines: number };

/**
 * Parses one record starting at `start`. Returns undefined when the buffer ends before the
 * record does (more input needed), unless `final`, when an open quote is an error.
 */
function parseQuotedRecord(text: string, start: number, delimiter: string, final: boolean): QuotedResult | undefined {
  const fields: string[] = [];
  let field = "";
  let i = start;
  let newlines = 0;
  let inQuotes = false;
  let afterQuote = false;
  let error: string | undefined;
  while (i < text.length) {
    const char = text[i]!;
    if (inQuotes) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (i + 1 >= text.length && !final) return undefined;
        inQuotes = false;
        afterQuote = true;
      } else {
        if (char === "\n") newlines += 1;
        field += char;
      }
      i += 1;
      continue;
    }
    if (char === delimiter) {
      fields.push(field);
      field = "";
      afterQuote = false;
    } else if (char === "\n") {
      if (field.endsWith("\r")) field = field.slice(0, -1);
      fields.push(field);
      return error === undefined ? { fields, end: i + 1, newlines } : { error, end: i + 1, newlines };
    } else if (char === '"' && field === "" && !afterQuote) {
      inQuotes = true;
    } else if (afterQuote && char !== "\r") {
      error ??= `unexpected character after a closing quote in field ${fields.length + 1}`;
    } else {
      field += char;
    }
    i += 1;
  }
  if (!final) return undefined;
  if (inQuotes) return { error: "quote opened but never closed before the end of the input", end: i, newlines };
  fields.push(field.endsWith("\r") ? field.slice(0, -1) : field);
  return error === undefined ? { fields, end: i, newlines } : { error, end: i, newlines };
}
