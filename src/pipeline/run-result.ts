import type { StageName } from "./stages.js";

// What a pipeline run returns and records: shared by the runner and by the alerts it sends, so
// neither imports the other.

export interface StageOutcome {
  stage: StageName;
  status: "succeeded" | "failed" | "skipped";
  attempts: number;
  error: string | null;
  outputs: Record<string, unknown> | null;
  durationMs: number;
}

export interface RunResult {
  runId: number;
  pipeline: string;
  trigger: string;
  status: "succeeded" | "failed";
  /** Why the run ended before its last stage, when it found nothing to do. */
  note: string | null;
  stages: StageOutcome[];
  error: string | null;
  durationMs: number;
  alerts: AlertReport | null;
}

export interface AlertReport {
  webhook: { url: string; ok: boolean; detail: string } | null;
  command: { ok: boolean; detail: string } | null;
}
