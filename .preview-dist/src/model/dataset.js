import { copyRowsOut } from "../db/copy.js";
import { categoryIndex, numericValue } from "./preprocess.js";
export const SPLIT_CODE = { train: 0, validation: 1, test: 2 };
/**
 * Reads examples with COPY into typed columns: a million rows of twenty features take a few
 * hundred megabytes at most, and no row object survives the read.
 */
export async function loadDataset(client, config, query = {}) {
    const where = ["b.status = 'accepted'"];
    if (query.afterBatch !== undefined)
        where.push(`e.batch_id > ${Math.trunc(query.afterBatch)}`);
    if (query.splits)
        where.push(`e.split IN (${query.splits.map((s) => `'${s}'`).join(", ")})`);
    if (query.labelledOnly)
        where.push("e.label IS NOT NULL");
    const limit = query.maxRows === undefined ? "" : `LIMIT ${Math.trunc(query.maxRows)}`;
    const from = `FROM examples e JOIN batches b ON b.id = e.batch_id WHERE ${where.join(" AND ")}`;
    const total = Number((await client.query(`SELECT count(*) AS n FROM (SELECT 1 ${from} ${limit}) s`)).rows[0].n);
    const columns = emptyColumns(config.features, total);
    const dataset = { ...columns, labels: new Int8Array(total), splits: new Uint8Array(total), batches: new Int32Array(total) };
    let row = 0;
    const order = query.ordered || query.maxRows !== undefined ? "ORDER BY e.row_hash" : "";
    const sql = `SELECT e.features, e.label, e.split, e.batch_id ${from} ${order} ${limit}`;
    for await (const [features, label, split, batch] of copyRowsOut(client, sql)) {
        if (row >= total)
            break;
        const values = JSON.parse(features);
        writeFeatures(dataset, config.features, row, values);
        dataset.labels[row] = label === null ? -1 : Number(label);
        dataset.splits[row] = SPLIT_CODE[split];
        dataset.batches[row] = Number(batch);
        row += 1;
    }
    return { ...dataset, rows: row };
}
/** Writes one row's raw feature values into the columns at `row`. */
export function writeFeatures(columns, features, row, values) {
    for (const feature of features) {
        const value = values[feature.name];
        if (feature.type === "numeric")
            columns.numeric.get(feature.name)[row] = numericValue(value);
        else
            columns.categorical.get(feature.name)[row] = categoryIndex(feature.values, value);
    }
}
export function emptyColumns(features, rows) {
    return {
        rows,
        numeric: new Map(features.filter((f) => f.type === "numeric").map((f) => [f.name, new Float64Array(rows)])),
        categorical: new Map(features.filter((f) => f.type === "categorical").map((f) => [f.name, new Int32Array(rows)])),
    };
}
/** Which batches, and how many rows of each, a data set holds: the model's data fingerprint. */
export function fingerprintOf(dataset) {
    const counts = new Map();
    for (let i = 0; i < dataset.rows; i += 1)
        counts.set(dataset.batches[i], (counts.get(dataset.batches[i]) ?? 0) + 1);
    const batches = [...counts].sort((a, b) => a[0] - b[0]).map(([id, rows]) => ({ id, rows }));
    return { rows: dataset.rows, batches, maxBatchId: batches.at(-1)?.id ?? 0 };
}
//# sourceMappingURL=dataset.js.map