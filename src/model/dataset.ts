import type pg from "pg";
import { DEFAULT_CHUNK_ROWS, type Feature, type MlopsConfig } from "../config/schema.js";
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

function exampleQuery(query: DatasetQuery): { from: string; sql: string; limit: string } {
  const where: string[] = ["b.status = 'accepted'"];
  if (query.afterBatch !== undefined) where.push(`e.batch_id > ${Math.trunc(query.afterBatch)}`);
  if (query.splits) where.push(`e.split IN (${query.splits.map((s) => `'${s}'`).join(", ")})`);
  if (query.labelledOnly) where.push("e.label IS NOT NULL");
  const limit = query.maxRows === undefined ? "" : `LIMIT ${Math.trunc(query.maxRows)}`;
  const from = `FROM examples e JOIN batches b ON b.id = e.batch_id WHERE ${where.join(" AND ")}`;
  const order = query.ordered || query.maxRows !== undefined ? "ORDER BY e.row_hash" : "";
  return { from, limit, sql: `SELECT e.features, e.label, e.split, e.batch_id ${from} ${order} ${limit}` };
}

/** An empty chunk of `capacity` rows; `rows` counts those filled. */
export function emptyChunk(features: readonly Feature[], capacity: number): Dataset {
  return {
    ...emptyColumns(features, capacity),
    rows: 0,
    labels: new Int8Array(capacity),
    splits: new Uint8Array(capacity),
    batches: new Int32Array(capacity),
    present: new Map(features.map((f) => [f.name, 0])),
  };
}

/**
 * Streams examples with COPY in chunks of at most `chunkRows` rows (each chunk a fresh set of
 * typed columns, `rows` of them filled), so no more than one chunk of raw values is held at a
 * time and no row object survives the read.
 */
export async function* streamExamples(
  client: pg.ClientBase,
  config: MlopsConfig,
  query: DatasetQuery = {},
  chunkRows = DEFAULT_CHUNK_ROWS,
): AsyncGenerator<Dataset> {
  const features = config.features;
  let chunk = emptyChunk(features, chunkRows);
  for await (const [features_, label, split, batch] of copyRowsOut(client, exampleQuery(query).sql)) {
    const row = chunk.rows;
    const values = JSON.parse(features_!) as Record<string, unknown>;
    writeFeatures(chunk, features, row, values);
    for (const f of features) {
      const value = values[f.name];
      if (value !== null && value !== undefined && value !== "") chunk.present!.set(f.name, chunk.present!.get(f.name)! + 1);
    }
    chunk.labels[row] = label === null ? -1 : Number(label);
    chunk.splits[row] = SPLIT_CODE[split as keyof typeof SPLIT_CODE];
    chunk.batches[row] = Number(batch);
    chunk.rows = row + 1;
    if (chunk.rows === chunkRows) {
      yield chunk;
      chunk = emptyChunk(features, chunkRows);
    }
  }
  if (chunk.rows > 0) yield chunk;
}

/**
 * Reads examples with COPY into typed columns, all rows at once: for the report's curves and
 * other reads of bounded size. Training and evaluation stream (readTrainingData, streamExamples).
 */
export async function loadDataset(client: pg.ClientBase, config: MlopsConfig, query: DatasetQuery = {}): Promise<Dataset> {
  const { from, limit } = exampleQuery(query);
  const total = Number((await client.query(`SELECT count(*) AS n FROM (SELECT 1 ${from} ${limit}) s`)).rows[0].n);
  if (total > 0) {
    // One chunk of `total` rows: rows inserted between the count and the read are left out.
    for await (const chunk of streamExamples(client, config, query, total)) return chunk;
  }
  return emptyChunk(config.features, 0);
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
export function fingerprintOf(dataset: Pick<Dataset, "rows" | "batches">): {
  rows: number;
  batches: Array<{ id: number; rows: number }>;
  maxBatchId: number;
} {
  const counts = new Map<number, number>();
  for (let i = 0; i < dataset.rows; i += 1) counts.set(dataset.batches[i]!, (counts.get(dataset.batches[i]!) ?? 0) + 1);
  const batches = [...counts].sort((a, b) => a[0] - b[0]).map(([id, rows]) => ({ id, rows }));
  return { rows: dataset.rows, batches, maxBatchId: batches.at(-1)?.id ?? 0 };
}
