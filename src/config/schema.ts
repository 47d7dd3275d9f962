import { z } from "zod";

/**
 * Rows per chunk when examples are streamed: 65,536 rows of twenty float64 features are 10 MB,
 * small beside the preprocessed inputs, and large enough that per-chunk work (a typed-array
 * allocation, a file read, a predict call) is noise.
 */
export const DEFAULT_CHUNK_ROWS = 65_536;
/** Below this many labelled train + validation rows, training cross-validates (and bins numerics). */
export const DEFAULT_SMALL_DATA_ROWS = 5000;
export const DEFAULT_FOLDS = 5;
/** Piecewise-linear bins per numeric feature on small data (model/preprocess.ts). */
export const DEFAULT_NUMERIC_BINS = 8;
/** Gradient-boosted trees beside the network on small data (model/stack.ts); the README has the measurements. */
export const DEFAULT_BOOSTED_TREES = true;

const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must start with a letter or _ and hold only letters, digits and _")
  .max(63, "must be at most 63 characters");

const numericFeature = z
  .object({
    name,
    type: z.literal("numeric"),
    min: z.number().optional(),
    max: z.number().optional(),
    nullable: z.boolean().default(false),
  })
  .strict()
  .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
    message: "min must not exceed max",
    path: ["min"],
  });

const categoricalFeature = z
  .object({
    name,
    type: z.literal("categorical"),
    values: z.array(z.string().min(1)).min(1, "needs at least one allowed value"),
    nullable: z.boolean().default(false),
  })
  .strict();

export const featureSchema = z.discriminatedUnion("type", [numericFeature, categoricalFeature]);

/** The stages pipelines are made of (see src/pipeline/stages.ts). */
export const STAGE_NAMES = ["collect", "train", "evaluate-candidate", "evaluate-active", "retrain-if-below", "promote-if-passing"] as const;

const formatSchema = z.enum(["csv", "tsv", "jsonl", "json"]);
const encodingSchema = z.enum(["utf8", "latin1", "utf16le"]);

/**
 * A named source for `mlops collect <name>`: a file, a URL, or a query on another PostgreSQL.
 * The source database's URL is read from an environment variable so no password sits in the
 * config file.
 */
const sourceSchema = z
  .object({
    file: z.string().min(1).optional(),
    url: z.string().url().optional(),
    query: z.string().min(1).optional(),
    fromDbEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must name an environment variable")
      .optional(),
    format: formatSchema.optional(),
    encoding: encodingSchema.optional(),
  })
  .strict()
  .refine((s) => [s.file, s.url, s.query].filter((v) => v !== undefined).length === 1, {
    message: "needs exactly one of file, url or query",
  })
  .refine((s) => (s.query === undefined) === (s.fromDbEnv === undefined), {
    message: "query and fromDbEnv go together",
    path: ["fromDbEnv"],
  });

const labelValue = z.union([z.string(), z.number(), z.boolean()]);

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    features: z
      .array(featureSchema)
      .min(1, "needs at least one feature")
      .superRefine((features, ctx) => {
        const seen = new Set<string>();
        features.forEach((feature, index) => {
          if (seen.has(feature.name)) {
            ctx.addIssue({ code: "custom", message: `duplicate feature name "${feature.name}"`, path: [index, "name"] });
          }
          seen.add(feature.name);
        });
      }),
    label: z
      .object({ name, positive: labelValue, negative: labelValue })
      .strict()
      .refine((l) => String(l.positive) !== String(l.negative), {
        message: "positive and negative label values must differ",
        path: ["negative"],
      }),
    rowKey: name.optional(),
    /** Columns of the user's data that are neither features, label nor row key: collect and /predict accept and ignore them. */
    ignoredColumns: z.array(z.string().min(1)).optional(),
    gate: z
      .object({
        f1Threshold: z.number().min(0).max(1).default(0.8),
        maxRegression: z.number().min(0).max(1).default(0.01),
      })
      .strict()
      .prefault({}),
    model: z
      .object({
        dir: z.string().min(1).default("models"),
        hidden: z.array(z.number().int().min(1).max(4096)).min(1).default([64, 32]),
        epochs: z.number().int().min(1).max(10_000).default(30),
        pretrainEpochs: z.number().int().min(0).max(10_000).default(10),
        batchSize: z.number().int().min(1).max(65_536).default(256),
        learningRate: z.number().positive().max(1).default(0.001),
        seed: z.number().int().min(0).default(42),
        /** "best" keeps the logistic-regression baseline when its validation (or cross-validated) F1 is higher. */
        select: z.enum(["network", "best"]).default("network"),
        /** Below this many labelled train + validation rows, k-fold cross-validation replaces the validation split. */
        smallDataRows: z.number().int().min(0).max(100_000_000).default(DEFAULT_SMALL_DATA_ROWS),
        folds: z.number().int().min(2).max(20).default(DEFAULT_FOLDS),
        /**
         * Below smallDataRows, each numeric feature is encoded piecewise-linearly over this many
         * equal-frequency bins of its training values (0: standardised, as on larger data).
         */
        numericBins: z.number().int().min(0).max(64).default(DEFAULT_NUMERIC_BINS),
        /**
         * Below smallDataRows, gradient-boosted trees train beside the network and the served
         * network blends their score in, by a weight chosen out of fold (model/stack.ts); w = 0
         * serves the plain network. On: over 27 real tables, four splits and two training seeds it
         * raised mean test F1 beyond the noise and narrowed every gap to gradient boosting (README).
         */
        boostedTrees: z.boolean().default(DEFAULT_BOOSTED_TREES),
        /**
         * Rows of raw values read, fitted and transformed at a time by train and evaluate (memory
         * holds one chunk of raw values; past one chunk, training keeps them in a scratch file).
         */
        chunkRows: z.number().int().min(1).max(10_000_000).default(DEFAULT_CHUNK_ROWS),
      })
      .strict()
      .prefault({}),
    serve: z
      .object({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(1).max(65_535).default(8000),
        maxBatch: z.number().int().min(1).max(100_000).default(1000),
        requireApiKey: z.boolean().default(false),
        /** Longest a request may take to arrive whole (headers and body); slower clients are cut off. */
        requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** Longest the request headers may take to arrive. */
        headersTimeoutMs: z.number().int().min(100).max(3_600_000).default(10_000),
        /** A connection silent this long is closed (idle keep-alive connections sooner, after 5 s). */
        idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(60_000),
        /** Open connections at most; more are refused, so slow clients cannot exhaust file descriptors. */
        maxConnections: z.number().int().min(1).max(1_000_000).default(4096),
      })
      .strict()
      .prefault({}),
    collect: z
      .object({
        /** Largest share of invalid rows a batch may have and still be accepted. */
        maxInvalid: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .prefault({}),
    sources: z.record(name, sourceSchema).default({}),
    pipelines: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, "pipeline names are lower-case words joined by -"),
        z.object({ stages: z.array(z.enum(STAGE_NAMES)).min(1, "needs at least one stage") }).strict(),
      )
      .default({}),
    /** Pipeline name -> cron expression (5 fields) or @hourly, @daily, @weekly, @monthly. */
    schedules: z.record(z.string(), z.string().min(1)).default({}),
    alerts: z
      .object({
        /** POSTed a JSON document about each failed run. */
        webhook: z.string().url().optional(),
        /** Run by the shell for each failed run, with the JSON document on standard input. */
        command: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        /** Tries per stage when a failure is transient (a dependency unreachable). */
        attempts: z.number().int().min(1).max(10).default(3),
        /** Wait before the second try; doubled before each further one. */
        backoffMs: z.number().int().min(0).max(600_000).default(2000),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        /** Port of the embedded server; chosen once and remembered when unset. */
        port: z.number().int().min(1024).max(65_535).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set(config.features.map((f) => f.name));
    if (names.has(config.label.name)) {
      ctx.addIssue({ code: "custom", message: `label "${config.label.name}" is also a feature`, path: ["label", "name"] });
    }
    if (config.rowKey !== undefined && (names.has(config.rowKey) || config.rowKey === config.label.name)) {
      ctx.addIssue({ code: "custom", message: "rowKey must be a column of its own", path: ["rowKey"] });
    }
  });

export type MlopsConfig = z.infer<typeof configSchema>;
export type Feature = z.infer<typeof featureSchema>;
