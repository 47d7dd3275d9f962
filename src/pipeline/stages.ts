import type { Project } from "../config/load.js";
import type { STAGE_NAMES } from "../config/schema.js";
import { ingestBatch } from "../data/ingest.js";
import { namedSourceSpec, openSource } from "../data/sources/open.js";
import { countLabelledRows } from "../data/overview.js";
import type { SyntheticOptions } from "../data/synthetic.js";
import type { BatchSummary, IngestOptions } from "../data/ingest.js";
import type { DatabaseSession } from "../db/session.js";
import { type MlopsError, usageError } from "../errors.js";
import { trainVersion } from "../registry/train-version.js";
import { MIN_TRAIN_ROWS } from "../model/train.js";
import { evaluateVersion, type DataChoice, type EvaluationResult } from "../registry/evaluate.js";
import { promoteVersion } from "../registry/promote.js";
import { activeVersion, findVersion } from "../registry/versions.js";

export type StageName = (typeof STAGE_NAMES)[number];

/** What stages of one run pass on to each other. */
export interface StageState {
  /** The version trained in this run, if any. */
  candidate?: string;
  /** Retraining after drift uses only batches after this one, and evaluates on their test split. */
  freshAfterBatch?: number;
  /** Set by a stage that found nothing to do: the run ends successfully here. */
  done?: string;
  /**
   * The rows the active version is judged on (default: fresh data). A file or the test split
   * judges the candidate on the same rows; fresh data judges it on the held-out test split of the
   * fresh batches, since it may have trained on the others.
   */
  data?: DataChoice;
  /** The full evaluations, for a command that shows them (stage outputs are summaries). */
  evaluations?: { active?: EvaluationResult; candidate?: EvaluationResult };
  /** Who promotes: the pipeline runner records "mlops pipeline"; unset, MLOPS_ACTOR or user@host as for `mlops promote`. */
  actor?: string;
  /** Why promote-if-passing did not promote (the gate refused), for a command that fails on it; a pipeline run records the reason. */
  refusal?: MlopsError;
  /** Where a stage reports progress (a command's spinner); pipeline runs leave it unset. */
  progress?: (text: string) => void;
}

export type Stage = (project: Project, session: DatabaseSession, state: StageState) => Promise<Record<string, unknown>>;

/** Rows a new regime needs before a retrain uses it alone rather than all data. */
const MIN_FRESH_ROWS = MIN_TRAIN_ROWS * 4;

export const STAGES: Record<StageName, Stage> = {
  /** Ingests every source named in the config. */
  async collect(project, session) {
    const names = Object.keys(project.config.sources);
    if (names.length === 0) {
      throw usageError(
        "NO_SOURCES",
        "The data-collection pipeline has no sources to collect.",
        'Name them under "sources" in mlops.config.json, e.g. "nightly": { "file": "exports/today.csv" }.',
      );
    }
    const batches: Record<string, unknown> = {};
    for (const name of names) {
      const summary = await ingestBatch(session, project.config, await openSource(namedSourceSpec(project, name), project.config), {
        maxInvalid: project.config.collect.maxInvalid,
        force: false,
      });
      if (summary.status === "rejected") {
        throw usageError(
          "BATCH_REJECTED",
          `Source "${name}": batch ${summary.batchId} was rejected (${(summary.invalidShare * 100).toFixed(1)}% invalid rows).`,
          "See `mlops data quarantine`.",
        );
      }
      batches[name] = {
        status: summary.status,
        batchId: summary.batchId ?? summary.sameAs,
        stored: summary.rows.stored,
        drift: summary.drift?.verdict ?? null,
      };
    }
    return { batches };
  },

  async train(project, session, state) {
    const result = await trainVersion(
      project,
      session,
      {
        ...project.config.model,
        pretrain: true,
        ...(state.freshAfterBatch === undefined ? {} : { afterBatch: state.freshAfterBatch }),
      },
      (p) => {
        if ("epoch" in p) state.progress?.(`Training (${p.stage}): epoch ${p.epoch}/${p.epochs}`);
      },
    );
    state.candidate = result.version;
    return { version: result.version, validationF1: result.metrics.validation.f1, testF1: result.metrics.test?.f1 ?? null, rows: result.rows };
  },

  /** Evaluates this run's candidate (else the newest candidate) on held-out data. */
  async "evaluate-candidate"(project, session, state) {
    const version = state.candidate ?? (await findVersion(session.client, "candidate")).version;
    state.candidate = version;
    const data: DataChoice =
      state.data && state.data.kind !== "fresh"
        ? state.data
        : { kind: "test-split", ...(state.freshAfterBatch === undefined ? {} : { afterBatch: state.freshAfterBatch }) };
    const result = await evaluateVersion(project, session, version, data);
    state.evaluations = { ...state.evaluations, candidate: result };
    return {
      version,
      f1: result.metrics?.f1 ?? null,
      passed: result.gate.passed,
      verdict: result.gate.verdict,
      baseline: result.baseline?.version ?? null,
    };
  },

  /** Evaluates the active version on fresh labelled data; ends the run when all is well. */
  async "evaluate-active"(project, session, state) {
    const active = await activeVersion(session.client);
    if (!active) {
      // Nothing is deployed, so nothing can have degraded: training the first version is `mlops
      // train` (or `mlops up`), not a scheduled retrain that fails on an empty project.
      state.done = "no active version yet: nothing to validate (mlops train, then mlops promote)";
      return { active: null, verdict: "no-active-version" };
    }
    const data = state.data ?? { kind: "fresh" };
    const result = await evaluateVersion(project, session, active.version, data);
    state.evaluations = { ...state.evaluations, active: result };
    if (result.gate.verdict === "no-data") state.done = `no fresh labelled data since ${active.version} was trained; nothing to validate`;
    else if (result.gate.passed) state.done = `${active.version} passes on ${result.dataSource} data (F1 ${result.metrics!.f1.toFixed(4)})`;
    else if (data.kind === "fresh") state.freshAfterBatch = active.dataFingerprint.maxBatchId;
    return { active: active.version, f1: result.metrics?.f1 ?? null, rows: result.rows, verdict: result.gate.verdict };
  },

  /**
   * Retrains after the active version failed on fresh data: on the fresh batches alone when they
   * hold enough labelled rows (the world changed; older rows teach the old rule), else on all data.
   */
  async "retrain-if-below"(project, session, state) {
    if (state.freshAfterBatch !== undefined && (await countLabelledRows(session.client, state.freshAfterBatch)) < MIN_FRESH_ROWS) {
      delete state.freshAfterBatch;
    }
    return {
      window: state.freshAfterBatch === undefined ? "all data" : `batches after ${state.freshAfterBatch}`,
      ...(await STAGES.train(project, session, state)),
    };
  },

  /** Promotes this run's candidate when its latest evaluation passed the gate; otherwise records why not. */
  async "promote-if-passing"(project, session, state) {
    const version = state.candidate ?? (await findVersion(session.client, "candidate")).version;
    try {
      const result = await promoteVersion(session.client, { version, ...(state.actor ? { actor: state.actor } : {}), projectRoot: project.root });
      return { promoted: result.action !== "unchanged", from: result.from, to: result.to, serversNotified: result.serversNotified };
    } catch (error) {
      if ((error as { code?: string }).code !== "PROMOTE_REFUSED") throw error;
      state.refusal = error as MlopsError;
      return { promoted: false, version, reason: (error as Error).message };
    }
  },
};

/**
 * One batch of synthetic rows, as `mlops seed` and `mlops up` store it (not a pipeline stage:
 * pipelines collect real sources).
 */
export async function seedSynthetic(
  project: Project,
  session: DatabaseSession,
  options: SyntheticOptions,
  onProgress?: IngestOptions["onProgress"],
): Promise<BatchSummary> {
  const source = await openSource({ kind: "synthetic", options }, project.config);
  return ingestBatch(session, project.config, source, {
    maxInvalid: project.config.collect.maxInvalid,
    force: false,
    ...(onProgress ? { onProgress } : {}),
  });
}

/** The pipelines that replace the Airflow DAGs; the config may define more. */
export const BUILT_IN_PIPELINES: Record<string, StageName[]> = {
  "data-collection": ["collect"],
  training: ["train", "evaluate-candidate"],
  "validation-deployment": ["evaluate-active", "retrain-if-below", "evaluate-candidate", "promote-if-passing"],
};

export function pipelineStages(project: Project, name: string): StageName[] {
  const stages = project.config.pipelines[name]?.stages ?? BUILT_IN_PIPELINES[name];
  if (!stages) {
    const known = [...Object.keys(BUILT_IN_PIPELINES), ...Object.keys(project.config.pipelines)];
    throw usageError("PIPELINE_UNKNOWN", `No pipeline named "${name}".`, `Known pipelines: ${[...new Set(known)].join(", ")}.`);
  }
  return stages;
}
