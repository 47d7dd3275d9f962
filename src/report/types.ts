import type { RunSummary } from "../pipeline/history.js";

/**
 * Everything the report shows, as plain JSON-ready data read by one set of queries
 * (build-data.ts). The HTML file, the live /dashboard and the Markdown summary are all rendered
 * from this one shape, so they never disagree.
 */
export interface ReportData {
  generatedAt: string;
  /** What --since asked for, and the first instant the time-based sections include. */
  since: { duration: string | null; from: string | null };
  gate: { f1Threshold: number; maxRegression: number };
  overview: Overview;
  lineage: Lineage;
  versionDetail: VersionDetail | null;
  data: DataSection;
  traffic: Traffic;
  runs: RunPoint[];
}

export interface Verdict {
  status: "healthy" | "needs-attention" | "empty";
  reasons: string[];
  /** Commands to run next, most useful first. */
  nextSteps: string[];
}

export interface Overview {
  activeVersion: { version: string; since: string; testF1: number | null; lastEvaluationF1: number | null } | null;
  versions: number;
  rows: { total: number; train: number; validation: number; test: number; unlabelled: number };
  quarantined: number;
  feedback: number;
  predictions: number;
  lastBatch: { id: number; at: string; status: string; rowsAccepted: number; drift: string | null } | null;
  lastRun: { id: number; pipeline: string; status: string; at: string } | null;
  checklist: { manualItems: number; signed: number; lastSignedBy: string | null; lastSignedAt: string | null };
  verdict: Verdict;
}

/** F1, ROC AUC, precision and recall of one measurement. */
export interface Scores {
  f1: number;
  rocAuc: number | null;
  precision: number;
  recall: number;
  rows: number;
}

export interface Lineage {
  versions: Array<{
    version: string;
    createdAt: string;
    active: boolean;
    trainingRows: number;
    threshold: number;
    validation: Scores | null;
    test: Scores | null;
  }>;
  evaluations: Array<{ version: string; at: string; dataSource: string; passed: boolean; scores: Scores }>;
  promotions: Array<{ at: string; action: string; from: string | null; to: string; actor: string; reason: string | null }>;
}

export interface CurvePoints {
  x: number[];
  y: number[];
}

export interface VersionDetail {
  version: string;
  active: boolean;
  threshold: number;
  createdAt: string;
  /** Confusion matrix and scores on the training run's test split (from the manifest). */
  test: (Scores & { confusion: { tp: number; fp: number; tn: number; fn: number } }) | null;
  /** Curves from scoring the test split now with the served forward pass; null with the reason. */
  curves: {
    rows: number;
    roc: CurvePoints;
    /** The point of each curve at the version's decision threshold. */
    rocAtThreshold: { x: number; y: number };
    pr: CurvePoints;
    prAtThreshold: { x: number; y: number };
    /** Mean predicted probability (x) against observed positive share (y) per bin, with counts. */
    calibration: CurvePoints & { counts: number[] };
  } | null;
  curvesNote: string | null;
  history: {
    pretrain: Array<{ epoch: number; loss: number; valLoss?: number }>;
    classifier: Array<{ epoch: number; loss: number; valLoss?: number; valF1?: number }>;
  } | null;
  baseline: { kind: string; validationF1: number | null; metrics: Record<string, unknown> } | null;
  crossValidation: Record<string, unknown> | null;
}

export interface DataSection {
  batches: Array<{
    id: number;
    at: string;
    status: string;
    source: string;
    stored: number;
    quarantined: number;
    duplicate: number;
    labelRate: number | null;
    drift: string | null;
  }>;
  topReasons: Array<{ field: string | null; problem: string; rows: number }>;
  drift: {
    features: string[];
    /** Batch ids, one per column of `psi`. */
    batches: number[];
    /** psi[feature][batch]; null where the feature was not compared. */
    psi: Array<Array<number | null>>;
    moderate: number;
    significant: number;
  };
}

export interface Traffic {
  bucket: "minute" | "hour" | "day";
  /** The first instant counted (with --since and hour or day buckets, the whole UTC hour holding it); null for the whole log. */
  from: string | null;
  /** Predictions logged in the range: exact. */
  total: number;
  versions: string[];
  /** Bucket starts in seconds since the epoch (what the charts' time axes take). */
  times: number[];
  /** counts[version][time] */
  counts: number[][];
  p50: Array<number | null>;
  p99: Array<number | null>;
  positiveShare: Array<number | null>;
  feedback: Array<{ version: string; labelled: number; f1: number; precision: number; recall: number; accuracy: number }>;
}

/** A run on the report's timeline: what `mlops runs` lists, without the stages. */
export type RunPoint = RunSummary;
