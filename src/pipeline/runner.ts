import os from "node:os";
import type pg from "pg";
import type { Project } from "../config/load.js";
import { isConnectionError } from "../db/connection.js";
import { prepareDatabase, withDatabase } from "../db/session.js";
import { connectSession } from "../db/pooling.js";
import { ExitCode, MlopsError } from "../errors.js";
import { redactSecrets } from "../redact.js";
import { sendAlerts } from "./alerts.js";
import type { RunResult, StageOutcome } from "./run-result.js";

export type { RunResult, StageOutcome } from "./run-result.js";
import { pipelineStages, STAGES, type StageState, type StageName } from "./stages.js";

export interface RunHooks {
  onStage?: (stage: StageName, attempt: number) => void;
  /** Waits between tries; tests make it instant. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs a pipeline: one run at a time per pipeline (a session-level advisory lock, held on its
 * own connection for the whole run), every run and stage attempt recorded, transient failures
 * (a dependency unreachable) retried with exponential backoff, and failure alerts sent. A run
 * left `running` by a process that died is marked failed when the next run takes the lock.
 */
export async function runPipeline(project: Project, pipeline: string, trigger: "manual" | "schedule", hooks: RunHooks = {}): Promise<RunResult> {
  const stages = pipelineStages(project, pipeline);
  const target = await prepareDatabase(project);
  const lock = await connectSession(target, `The lock that keeps one run of ${pipeline} at a time`, 5000, `mlops run ${pipeline}`);
  const started = Date.now();
  try {
    const acquired = await lock.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [`mlops:pipeline:${pipeline}`]);
    if (!acquired.rows[0]!.ok) throw await alreadyRunning(lock, pipeline);
    await lock.query(
      `UPDATE pipeline_runs SET status = 'failed', finished_at = now(), error = 'the process running it died (pid ' || pid || ' on ' || hostname || ')'
        WHERE pipeline = $1 AND status = 'running'`,
      [pipeline],
    );
    const run = await lock.query<{ id: number }>(
      "INSERT INTO pipeline_runs (pipeline, status, trigger, hostname, pid) VALUES ($1, 'running', $2, $3, $4) RETURNING id",
      [pipeline, trigger, os.hostname(), process.pid],
    );
    const runId = run.rows[0]!.id;
    const state: StageState = { actor: "mlops pipeline" };
    const outcomes: StageOutcome[] = [];
    let failure: string | null = null;
    for (const stage of stages) {
      if (failure !== null || state.done !== undefined) {
        outcomes.push({ stage, status: "skipped", attempts: 0, error: null, outputs: null, durationMs: 0 });
        continue;
      }
      const outcome = await runStage(project, lock, runId, stage, state, hooks);
      outcomes.push(outcome);
      if (outcome.status === "failed") failure = `${stage}: ${outcome.error}`;
    }
    const status = failure === null ? "succeeded" : "failed";
    const outputs = Object.fromEntries(outcomes.filter((o) => o.outputs).map((o) => [o.stage, o.outputs]));
    await lock.query("UPDATE pipeline_runs SET status = $2, finished_at = now(), error = $3, outputs = $4 WHERE id = $1", [
      runId,
      status,
      failure,
      JSON.stringify({ ...outputs, note: state.done ?? null }),
    ]);
    const result: RunResult = {
      runId,
      pipeline,
      trigger,
      status,
      note: state.done ?? null,
      stages: outcomes,
      error: failure,
      durationMs: Date.now() - started,
      alerts: null,
    };
    if (status === "failed") result.alerts = await sendAlerts(project.config.alerts, result);
    return result;
  } finally {
    await lock.end().catch(() => undefined);
  }
}

async function runStage(
  project: Project,
  recorder: pg.Client,
  runId: number,
  stage: StageName,
  state: StageState,
  hooks: RunHooks,
): Promise<StageOutcome> {
  const { attempts, backoffMs } = project.config.retry;
  const sleep = hooks.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    hooks.onStage?.(stage, attempt);
    const row = await recorder.query<{ id: number }>(
      "INSERT INTO stage_runs (run_id, stage, attempt, status) VALUES ($1, $2, $3, 'running') RETURNING id",
      [runId, stage, attempt],
    );
    try {
      const outputs = await withDatabase(project, (session) => STAGES[stage](project, session, state));
      await recorder.query("UPDATE stage_runs SET status = 'succeeded', finished_at = now(), outputs = $2 WHERE id = $1", [
        row.rows[0]!.id,
        JSON.stringify(outputs),
      ]);
      return { stage, status: "succeeded", attempts: attempt, error: null, outputs, durationMs: Date.now() - started };
    } catch (error) {
      const message = redactSecrets(error instanceof Error ? error.message : String(error));
      await recorder.query("UPDATE stage_runs SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1", [row.rows[0]!.id, message]);
      if (!isTransient(error) || attempt >= attempts) {
        return { stage, status: "failed", attempts: attempt, error: message, outputs: null, durationMs: Date.now() - started };
      }
      await sleep(backoffMs * 2 ** (attempt - 1));
    }
  }
}

/** Worth another try: something we depend on was unreachable, not a mistake in data or config. */
function isTransient(error: unknown): boolean {
  if (error instanceof MlopsError) return error.exitCode === ExitCode.unavailable;
  return isConnectionError(error);
}

async function alreadyRunning(client: pg.Client, pipeline: string): Promise<MlopsError> {
  const running = await client.query<{ id: number; started_at: Date; hostname: string; pid: number }>(
    "SELECT id, started_at, hostname, pid FROM pipeline_runs WHERE pipeline = $1 AND status = 'running' ORDER BY id DESC LIMIT 1",
    [pipeline],
  );
  const run = running.rows[0];
  return new MlopsError(
    "PIPELINE_RUNNING",
    `Pipeline ${pipeline} is already running${run ? ` (run ${run.id}, started ${run.started_at.toISOString()} by pid ${run.pid} on ${run.hostname})` : ""}; one run at a time.`,
    { exitCode: ExitCode.gateFailed, hint: "Wait for it to finish (`mlops runs`), then run again." },
  );
}
