import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { DEFAULT_CHUNK_ROWS, type Feature, type MlopsConfig } from "../config/schema.js";
import { ProfileAccumulator } from "../data/profile.js";
import { ensurePrivateDir } from "../db/state-dir.js";
import { emptyColumns, streamExamples, type Dataset, type DatasetQuery } from "./dataset.js";
import type { FeatureColumns } from "./preprocess.js";

/**
 * The examples a training run reads, held so that memory does not grow with raw values: labels,
 * splits and batches (6 bytes a row) stay in memory; the raw feature values (8 bytes a numeric,
 * 4 a categorical, per row) are read back chunk by chunk, in row-hash order, as often as the
 * preprocessing needs them. Five million rows of twenty float64 features are 800 MB, more than
 * the whole budget for training, so past one chunk they go to a private scratch file.
 */
export interface TrainingData {
  rows: number;
  labels: Int8Array;
  splits: Uint8Array;
  batches: Int32Array;
  present: Map<string, number>;
  /** The rows' profile (the drift reference of later batches), gathered while reading. */
  profile: ReturnType<ProfileAccumulator["profile"]>;
  /**
   * The raw values in row order, chunk by chunk, with the index of each chunk's first row. A
   * chunk's arrays may be reused for the next chunk: copy what must outlive the iteration.
   */
  chunks(): AsyncIterable<{ start: number; columns: FeatureColumns }>;
  /** Removes the scratch file and its folder (also call after a failure). */
  close(): Promise<void>;
}

/** An in-memory data set seen as training data (one chunk, nothing to remove). */
export function inMemoryTrainingData(features: readonly Feature[], dataset: Dataset): TrainingData {
  const accumulator = new ProfileAccumulator(features);
  addToProfile(accumulator, features, dataset);
  const present = dataset.present ?? new Map(features.map((f) => [f.name, dataset.rows]));
  return {
    rows: dataset.rows,
    labels: dataset.labels.subarray(0, dataset.rows),
    splits: dataset.splits.subarray(0, dataset.rows),
    batches: dataset.batches.subarray(0, dataset.rows),
    present,
    profile: accumulator.profile(),
    async *chunks() {
      yield { start: 0, columns: dataset };
    },
    close: async () => undefined,
  };
}

/** Grows a typed array to at least `needed` elements (doubling), keeping its contents. */
function grown<T extends Int8Array | Uint8Array | Int32Array>(array: T, needed: number, make: (n: number) => T): T {
  if (needed <= array.length) return array;
  const next = make(Math.max(needed, array.length * 2));
  next.set(array);
  return next;
}

/**
 * Reads the examples of `query` with COPY, chunk by chunk. The first chunk stays in memory; when
 * a second arrives, every chunk goes to a file under `scratchRoot` (a 0700 folder, a 0600 file)
 * that is unlinked as soon as it is open: training reads it through the open handle, and the
 * kernel frees it when the handle closes, so no exit (Ctrl-C, SIGTERM, SIGKILL, a crash) can
 * leave a copy of the examples behind. Reading a chunk back costs a sequential file read, where
 * a second COPY would re-sort and re-parse the JSON of every row (most of a pass's time).
 */
export async function readTrainingData(
  client: pg.ClientBase,
  config: MlopsConfig,
  query: DatasetQuery,
  scratchRoot: string,
  chunkRows = DEFAULT_CHUNK_ROWS,
): Promise<TrainingData> {
  const features = config.features;
  const accumulator = new ProfileAccumulator(features);
  const present = new Map(features.map((f) => [f.name, 0]));
  let labels = new Int8Array(chunkRows);
  let splits = new Uint8Array(chunkRows);
  let batches = new Int32Array(chunkRows);
  let rows = 0;
  let first: Dataset | null = null;
  const chunkSizes: number[] = [];
  let scratch: { file: FileHandle; bytes: number } | null = null;
  const close = async () => {
    if (!scratch) return;
    const { file } = scratch;
    scratch = null;
    await file.close().catch(() => undefined);
  };
  const spill = async (chunk: Dataset) => {
    if (!scratch) {
      await ensurePrivateDir(scratchRoot);
      const dir = await mkdtemp(path.join(scratchRoot, "train-"));
      const file = await open(path.join(dir, "examples.bin"), "w+", 0o600);
      await rm(dir, { recursive: true, force: true });
      scratch = { file, bytes: 0 };
    }
    for (const buffer of columnBuffers(chunk, chunk.rows)) {
      await scratch.file.write(buffer, 0, buffer.byteLength, scratch.bytes);
      scratch.bytes += buffer.byteLength;
    }
  };
  try {
    for await (const chunk of streamExamples(client, config, query, chunkRows)) {
      labels = grown(labels, rows + chunk.rows, (n) => new Int8Array(n));
      splits = grown(splits, rows + chunk.rows, (n) => new Uint8Array(n));
      batches = grown(batches, rows + chunk.rows, (n) => new Int32Array(n));
      labels.set(chunk.labels.subarray(0, chunk.rows), rows);
      splits.set(chunk.splits.subarray(0, chunk.rows), rows);
      batches.set(chunk.batches.subarray(0, chunk.rows), rows);
      for (const [name, count] of chunk.present!) present.set(name, present.get(name)! + count);
      addToProfile(accumulator, features, chunk);
      rows += chunk.rows;
      chunkSizes.push(chunk.rows);
      if (chunkSizes.length === 1) first = chunk;
      else {
        if (first) await spill(first);
        first = null;
        await spill(chunk);
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  const held = first;
  const file = scratch as { file: FileHandle } | null;
  return {
    rows,
    labels: labels.subarray(0, rows),
    splits: splits.subarray(0, rows),
    batches: batches.subarray(0, rows),
    present,
    profile: accumulator.profile(),
    async *chunks() {
      if (held) {
        yield { start: 0, columns: held };
        return;
      }
      if (!file) return;
      const buffer = emptyColumns(features, chunkRows);
      let start = 0;
      let position = 0;
      for (const size of chunkSizes) {
        buffer.rows = size;
        for (const target of columnBuffers(buffer, size)) {
          const { bytesRead } = await file.file.read(target, 0, target.byteLength, position);
          if (bytesRead !== target.byteLength)
            throw new Error(`The training scratch file ended early (read ${bytesRead} of ${target.byteLength} bytes).`);
          position += target.byteLength;
        }
        yield { start, columns: buffer };
        start += size;
      }
    },
    close,
  };
}

/** The first `rows` values of each column as bytes, numeric columns first, in schema order. */
function columnBuffers(columns: FeatureColumns, rows: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const column of columns.numeric.values()) out.push(new Uint8Array(column.buffer, column.byteOffset, rows * 8));
  for (const column of columns.categorical.values()) out.push(new Uint8Array(column.buffer, column.byteOffset, rows * 4));
  return out;
}

/** Adds the rows of one chunk of raw columns to a profile (training data is profiled chunk by chunk as it is read). */
export function addToProfile(accumulator: ProfileAccumulator, features: readonly Feature[], columns: FeatureColumns): void {
  const values: Array<number | string | null> = new Array(features.length);
  for (let r = 0; r < columns.rows; r += 1) {
    features.forEach((f, i) => {
      if (f.type === "numeric") {
        const x = columns.numeric.get(f.name)![r]!;
        values[i] = Number.isNaN(x) ? null : x;
      } else {
        const index = columns.categorical.get(f.name)![r]!;
        values[i] = index < 0 ? null : f.values[index]!;
      }
    });
    accumulator.add(values);
  }
}
