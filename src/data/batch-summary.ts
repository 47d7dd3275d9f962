import type { DriftReport } from "./drift.js";
import type { OpenedSource } from "./sources/open.js";

export interface IngestOptions {
  /** Largest share of invalid rows (0..1) a batch may have and still be accepted. */
  maxInvalid: number;
  /** Ingest even when a batch with the same checksum exists. */
  force: boolean;
  onProgress?: (progress: { rows: number; bytes: number; totalBytes?: number }) => void;
}

export interface ReasonCount {
  field: string | null;
  code: string;
  count: number;
  /** The message of the first row with this reason. */
  example: string;
}

/** What `collect` and `seed` report (the `--json` document), and what the batch record keeps. */
export interface BatchSummary {
  status: "accepted" | "rejected" | "skipped";
  batchId: number | null;
  /** For a skipped batch: the earlier batch with the same checksum. */
  sameAs: number | null;
  source: string;
  sourceKind: string;
  checksum: string;
  rows: {
    read: number;
    valid: number;
    invalid: number;
    stored: number;
    quarantined: number;
    duplicatesInBatch: number;
    duplicatesOfStored: number;
  };
  invalidShare: number;
  maxInvalid: number;
  topReasons: ReasonCount[];
  extraColumns: string[];
  labels: { positive: number; negative: number; unlabelled: number };
  splits: { train: number; validation: number; test: number };
  drift: DriftReport | null;
  driftReference: string | null;
  durationMs: number;
}

/** A batch not stored because one with the same checksum was (`sameAs`); --force collects it anyway. */
export function skippedSummary(source: OpenedSource, checksum: string, sameAs: number, options: IngestOptions, started: Date): BatchSummary {
  return {
    status: "skipped",
    batchId: null,
    sameAs,
    source: source.name,
    sourceKind: source.kind,
    checksum,
    rows: { read: 0, valid: 0, invalid: 0, stored: 0, quarantined: 0, duplicatesInBatch: 0, duplicatesOfStored: 0 },
    invalidShare: 0,
    maxInvalid: options.maxInvalid,
    topReasons: [],
    extraColumns: [],
    labels: { positive: 0, negative: 0, unlabelled: 0 },
    splits: { train: 0, validation: 0, test: 0 },
    drift: null,
    driftReference: null,
    durationMs: Date.now() - started.getTime(),
  };
}
