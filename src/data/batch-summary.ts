import type { DriftReport } from "./drift.js";

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
