import { inferSchema, type InferredSchema } from "./infer-schema.js";
import { openSource } from "./sources/open.js";
import { readRecord, recordRow, type DataFormat } from "./sources/formats.js";
import type { TextEncoding } from "./sources/text.js";
import type { RawRow } from "./types.js";

export interface InferFromFileOptions {
  label: string;
  rowKey?: string;
  positive?: string;
  negative?: string;
  sampleSize?: number;
  format?: DataFormat;
  encoding?: TextEncoding;
}

/** Infers the feature schema from the first rows of a CSV/JSONL file (records it cannot read are skipped). */
export async function inferSchemaFromFile(file: string, options: InferFromFileOptions): Promise<InferredSchema & { file: string }> {
  const source = await openSource({ kind: "file", path: file, format: options.format, encoding: options.encoding });
  async function* rows(): AsyncGenerator<RawRow> {
    for await (const records of source.records) {
      for (const each of records) {
        const record = readRecord(each, source.state);
        if (!("error" in record)) yield recordRow(record, source.state.columns);
      }
    }
  }
  const inferred = await inferSchema(rows(), {
    label: options.label,
    ...(options.rowKey ? { rowKey: options.rowKey } : {}),
    ...(options.positive !== undefined ? { positive: options.positive } : {}),
    ...(options.negative !== undefined ? { negative: options.negative } : {}),
    ...(options.sampleSize ? { sampleSize: options.sampleSize } : {}),
  });
  return { file: source.name, ...inferred };
}
