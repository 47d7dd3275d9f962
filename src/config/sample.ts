import {
  DEFAULT_BOOSTED_TREES,
  DEFAULT_CHUNK_ROWS,
  DEFAULT_FOLDS,
  DEFAULT_NUMERIC_BINS,
  DEFAULT_SMALL_DATA_ROWS,
  type MlopsConfig,
} from "./schema.js";

/**
 * The sample feature schema `mlops init` writes: twenty numeric measurements and two
 * categorical attributes with a binary label, the shape of the tabular data the toolkit's
 * synthetic generator produces. Users replace it with their own (`mlops init --from FILE`).
 */
export function sampleConfig(): MlopsConfig {
  const numeric = Array.from({ length: 20 }, (_, i) => ({
    name: `x${String(i + 1).padStart(2, "0")}`,
    type: "numeric" as const,
    nullable: false,
  }));
  return {
    version: 1,
    features: [
      ...numeric,
      { name: "segment", type: "categorical", values: ["a", "b", "c", "d"], nullable: false },
      { name: "channel", type: "categorical", values: ["web", "store", "app"], nullable: false },
    ],
    label: { name: "label", positive: 1, negative: 0 },
    gate: { f1Threshold: 0.8, maxRegression: 0.01 },
    model: {
      dir: "models",
      hidden: [64, 32],
      epochs: 30,
      pretrainEpochs: 10,
      batchSize: 256,
      learningRate: 0.001,
      seed: 42,
      select: "network",
      smallDataRows: DEFAULT_SMALL_DATA_ROWS,
      folds: DEFAULT_FOLDS,
      numericBins: DEFAULT_NUMERIC_BINS,
      boostedTrees: DEFAULT_BOOSTED_TREES,
      chunkRows: DEFAULT_CHUNK_ROWS,
    },
    serve: {
      host: "127.0.0.1",
      port: 8000,
      maxBatch: 1000,
      requireApiKey: false,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxConnections: 4096,
    },
    collect: { maxInvalid: 0.05 },
    sources: {},
    pipelines: {},
    // data-collection is not scheduled: with no sources it has nothing to collect and every run
    // would fail. Name sources, then add "data-collection": "@daily" here.
    schedules: { "validation-deployment": "@daily" },
    alerts: {},
    retry: { attempts: 3, backoffMs: 2000 },
    database: {},
  };
}
