import type { Project } from "../config/load.js";
import type { DatabaseSession } from "../db/session.js";
import type { DataChoice, EvaluationResult } from "../registry/evaluate.js";
import { STAGES, type StageState, type StageName } from "./stages.js";

export interface ValidationOutcome {
  /** The active version's evaluation. */
  evaluation: EvaluationResult;
  /** The version trained because the active one failed, and its evaluation; null when none was needed. */
  retrained: { version: string; evaluation: EvaluationResult } | null;
}

/** The stages of validation-deployment before promotion, in the pipeline's own order. */
const VALIDATION_STAGES: StageName[] = ["evaluate-active", "retrain-if-below", "evaluate-candidate"];

/**
 * `evaluate --retrain-if-below`: the validation half of the validation-deployment pipeline, run
 * through the very same stages, so the retrained candidate is trained and judged exactly as a
 * pipeline run would (on the held-out part of the rows the active version failed on, never on an
 * empty "fresh" set that a version just trained on everything cannot have). Promotion stays with
 * `mlops promote` or the pipeline.
 */
export async function validateActiveVersion(
  project: Project,
  session: DatabaseSession,
  data: DataChoice,
  onStage: (stage: StageName) => void = () => {},
): Promise<ValidationOutcome> {
  const state: StageState = { data };
  for (const stage of VALIDATION_STAGES) {
    if (state.done !== undefined) break;
    onStage(stage);
    await STAGES[stage](project, session, state);
  }
  const { active, candidate } = state.evaluations ?? {};
  if (!active) throw new Error("evaluate-active ran without an active version");
  return { evaluation: active, retrained: candidate && state.candidate ? { version: state.candidate, evaluation: candidate } : null };
}
