import { inferSchema } from "./infer-schema.js";
import { openSource } from "./sources/open.js";
import { readRecord, recordRow } from "./sources/formats.js";
/** Infers the feature schema from the first rows of a CSV/JSONL file (records it cannot read are skipped). */
export async function inferSchemaFromFile(file, options) {
    const source = await openSource({ kind: "file", path: file, format: options.format, encoding: options.encoding });
    async function* rows() {
        for await (const records of source.records) {
            for (const each of records) {
                const record = readRecord(each, source.state);
                if (!("error" in record))
                    yield recordRow(record, source.state.columns);
            }
        }
    }
    const inferred = await inferSchema(rows(), {
        label: options.label,
        ...(options.rowKey ? { rowKey: options.rowKey } : {}),
        ...(options.sampleSize ? { sampleSize: options.sampleSize } : {}),
    });
    return { file: source.name, ...inferred };
}
//# sourceMappingURL=infer-from-file.js.map