import { StringDecoder } from "node:string_decoder";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { quoteIdent } from "./identifiers.js";

/**
 * Bulk paths (ingest, the prediction log, scoring reads) use COPY: tens of thousands of rows a
 * second where row-at-a-time inserts manage a few thousand. These helpers speak COPY's text
 * format; the two hottest paths, ingest and the prediction log, write binary (copy-binary.ts).
 */
export type CopyValue = string | number | boolean | bigint | Date | null | undefined | object;

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** Encodes one value for COPY text format: \N for null, backslash escapes for the rest. */
function encodeCopyValue(value: CopyValue): string {
  if (value === null || value === undefined) return "\\N";
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else text = JSON.stringify(value);
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

export function encodeCopyRow(values: readonly CopyValue[]): string {
  return `${values.map(encodeCopyValue).join("\t")}\n`;
}

/** Decodes one COPY text-format field (the inverse of encodeCopyValue for strings). */
function decodeCopyField(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  return field.replace(/\\(.)/g, (_, char: string) => ({ t: "\t", n: "\n", r: "\r", b: "\b", f: "\f", v: "\v" })[char] ?? char);
}

/**
 * Streams rows into `table` with COPY FROM STDIN. Rows are batched into chunks so that a
 * million rows cost a few thousand writes, and back-pressure keeps memory bounded.
 * Returns the number of rows written.
 */
export async function copyRowsIn(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly CopyValue[]> | AsyncIterable<readonly CopyValue[]>,
): Promise<number> {
  let count = 0;
  async function* chunks(): AsyncGenerator<string> {
    let buffer = "";
    for await (const row of rows as AsyncIterable<readonly CopyValue[]>) {
      buffer += encodeCopyRow(row);
      count += 1;
      if (buffer.length >= 256 * 1024) {
        yield buffer;
        buffer = "";
      }
    }
    if (buffer !== "") yield buffer;
  }
  const sql = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) FROM STDIN`;
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
  return count;
}

/** Streams the rows of `query` with COPY TO STDOUT, each as an array of nullable strings. */
export async function* copyRowsOut(client: pg.ClientBase, query: string): AsyncGenerator<Array<string | null>> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
  // A chunk may end inside a multi-byte character; the decoder carries it over.
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    rest += decoder.write(chunk);
    const lines = rest.split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) yield line.split("\t").map(decodeCopyField);
  }
  rest += decoder.end();
  if (rest !== "") yield rest.split("\t").map(decodeCopyField);
}
