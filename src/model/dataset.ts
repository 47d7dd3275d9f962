import type pg from "pg";
import type { Feature, MlopsConfig } from "../config/schema.js";
import { copyRowsOut } from "../db/copy.js";
import { categoryIndex, numericValue, type FeatureColumns } from "./preprocess.js";

export const SPLIT_CODE = { train: 0, validation: 1, test: 2 } as const;

/** Stored examples as columns: raw feature values, labels (-1 unlabelled), splits and batches. */
export interface Dataset extends FeatureColumns {
  labels: Int8Array;
  splits: Uint8Array;
  batches: Int32Array;
  /** Per feature, how many rows hold a value (not missing); set by loadDataset. */
  present?: Map<string, number>;
}

export interface DatasetQuery {
  /** Only rows of batches after this one (fresh data for evaluation). */
  afterBatch?: number;
  /** Only these splits. */
  splits?: Array<keyof typeof SPLIT_CODE>;
  /** Only labelled rows. */
  labelledOnly?: boolean;
  /** At most this many rows, taken in row-hash order (a stable, well-mixed subset). */
  maxRows?: number;
  /**
   * Rows in row-hash order, so training sees the same data in the same order every time. Scoring
   * does not need it, and a million-row sort costs PostgreSQL seconds (there is no B-tree on the hash).
   */
  ordered?: boolean;
}

/**
 * Reads examples with COPY into typed columns: a million rows of twenty features take a few
 * hundred megabytes at most, and no row object survives the read.
 */
export async function loadDataset(client: pg.ClientBase, config: MlopsConfig, query: DatasetQuery = {}): Promise<Dataset> {
  const where: string[] = ["b.status = 'accepted'"];
  if (query.afterBatch !== undefined) where.push(`e.batch_id > ${Math.trunc(query.afterBatch)}`);
  if (query.splits) where.push(`e.split IN (${query.splits.map((s) => `'${s}'`).join(", ")})`);
  if (query.labelledOnly) where.push("e.label IS NOT NULL");
  const limit = query.maxRows === undefined ? "" : `LIMIT ${Math.trunc(query.maxRows)}`;
  const from = `FROM examples e JOIN batches b ON b.id = e.batch_id WHERE ${where.join(" AND ")}`;
  const total = Number((await client.query(`SELECT count(*) AS n FROM (SELECT 1 ${from} ${limit}) s`)).rows[0].n);
  const columns = emptyColumns(config.features, total);
  const dataset: Dataset = { ...columns, labels: new Int8Array(total), splits: new Uint8Array(total), batches: new Int32Array(total) };
  const present = new Map(config.features.map((f) => [f.name, 0]));
  let row = 0;
  const order = query.ordered || query.maxRows !== undefined ? "ORDER BY e.row_hash" : "";
  const sql = `SELECT e.features, e.label, e.split, e.batch_id ${from} ${order} ${limit}`;
  for await (const [features, label, split, batch] of copyRowsOut(client, sql)) {
    if (row >= total) break;
    const values = JSON.parse(features!) as Record<string, unknown>;
    writeFeatures(dataset, config.features, row, values);
    for (const f of config.features) {
      const value = values[f.name];
      if (value !== null && value !== undefined && value !== "") present.set(f.name, present.get(f.name)! + 1);
    }
    dataset.labels[row] = label === null ? -1 : Number(label);
    dataset.splits[row] = SPLIT_CODE[split as keyof typeof SPLIT_CODE];
    dataset.batches[row] = Number(batch);
    row += 1;
  }
  return { ...dataset, rows: row, present };
}

/** Writes one row's raw feature values into the columns at `row`. */
export function writeFeatures(columns: FeatureColumns, features: readonly Feature[], row: number, values: Record<string, unknown>): void {
  for (const feature of features) {
    const value = values[feature.name];
    if (feature.type === "numeric") columns.numeric.get(feature.name)![row] = numericValue(value);
    else columns.categorical.get(feature.name)![row] = categoryIndex(feature.values, value);
  }
}

export function emptyColumns(features: readonly Feature[], rows: number): FeatureColumns {
  return {
    rows,
    numeric: new Map(features.filter((f) => f.type === "numeric").map((f) => [f.name, new Float64Array(rows)])),
    categorical: new Map(features.filter((f) => f.type === "categorical").map((f) => [f.name, new Int32Array(rows)])),
  };
}

/** Which batches, and how many rows of each, a data set holds: the model's data fingerprint. */
export function fingerprintOf(dataset: Dataset): { rows: number; batches: Array<{ id: number; rows: number }>; maxBatchId: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < dataset.rows; i += 1) counts.set(dataset.batches[i]!, (counts.get(dataset.batches[i]!) ?? 0) + 1);
  const batches = [...counts].sort((a, b) => a[0] - b[0]).map(([id, rows]) => ({ id, rows }));
  return { rows: dataset.rows, batches, maxBatchId: batches.at(-1)?.id ?? 0 };
}
