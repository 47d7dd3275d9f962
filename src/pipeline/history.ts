import type pg from "pg";
import { usageError } from "../errors.js";

/** One pipeline run as `mlops runs` and the report show it. */
export interface RunSummary {
  id: number;
  pipeline: string;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface RunListing extends RunSummary {
  stages: Array<{ stage: string; attempt: number; status: string; error: string | null }>;
}

/** A `pipeline_runs` row (id, pipeline, status, trigger, started_at, finished_at, error) as a RunSummary. */
export function runSummaryOf(r: Record<string, unknown>): RunSummary {
  const started = r.started_at as Date;
  const finished = r.finished_at as Date | null;
  return {
    id: r.id as number,
    pipeline: r.pipeline as string,
    status: r.status as string,
    trigger: r.trigger as string,
    startedAt: started.toISOString(),
    finishedAt: finished ? finished.toISOString() : null,
    durationMs: finished ? finished.getTime() - started.getTime() : null,
    error: r.error as string | null,
  };
}

/** What `mlops runs` shows: recent runs with their stage attempts. */
export async function listRuns(client: pg.ClientBase, pipeline: string | undefined, limit: number): Promise<RunListing[]> {
  const runs = await client.query(
    `SELECT id, pipeline, status, trigger, started_at, finished_at, error FROM pipeline_runs
      ${pipeline ? "WHERE pipeline = $2" : ""} ORDER BY id DESC LIMIT $1`,
    pipeline ? [limit, pipeline] : [limit],
  );
  const ids = runs.rows.map((r) => r.id as number);
  const stages = ids.length
    ? await client.query("SELECT run_id, stage, attempt, status, error FROM stage_runs WHERE run_id = ANY($1) ORDER BY id", [ids])
    : { rows: [] as Array<Record<string, unknown>> };
  return runs.rows.map((r) => ({
    ...runSummaryOf(r),
    stages: stages.rows
      .filter((s) => s.run_id === r.id)
      .map((s) => ({ stage: s.stage as string, attempt: s.attempt as number, status: s.status as string, error: s.error as string | null })),
  }));
}

export interface RunDetail extends RunSummary {
  hostname: string;
  pid: number;
  /** Why the run ended before its last stage, when it found nothing to do. */
  note: string | null;
  stages: Array<{
    stage: string;
    attempt: number;
    status: string;
    error: string | null;
    outputs: Record<string, unknown> | null;
    startedAt: string;
    durationMs: number | null;
  }>;
}

/** What `mlops runs show ID` shows: one run with every stage attempt's outputs and error. */
export async function runDetail(client: pg.ClientBase, id: number): Promise<RunDetail> {
  const runs = await client.query(
    "SELECT id, pipeline, status, trigger, hostname, pid, started_at, finished_at, error, outputs FROM pipeline_runs WHERE id = $1",
    [id],
  );
  const r = runs.rows[0];
  if (!r) throw usageError("RUN_NOT_FOUND", `No run ${id}.`, "List the runs with `mlops runs`.");
  const stages = await client.query(
    "SELECT stage, attempt, status, error, outputs, started_at, finished_at FROM stage_runs WHERE run_id = $1 ORDER BY id",
    [id],
  );
  const duration = (started: Date, finished: Date | null) => (finished ? finished.getTime() - started.getTime() : null);
  return {
    ...runSummaryOf(r),
    hostname: r.hostname,
    pid: r.pid,
    note: (r.outputs as { note?: string | null } | null)?.note ?? null,
    stages: stages.rows.map((s) => ({
      stage: s.stage,
      attempt: s.attempt,
      status: s.status,
      error: s.error,
      outputs: s.outputs,
      startedAt: (s.started_at as Date).toISOString(),
      durationMs: duration(s.started_at, s.finished_at),
    })),
  };
}
