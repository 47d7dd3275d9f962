import type pg from "pg";

export interface RunListing {
  id: number;
  pipeline: string;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  stages: Array<{ stage: string; attempt: number; status: string; error: string | null }>;
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
    id: r.id,
    pipeline: r.pipeline,
    status: r.status,
    trigger: r.trigger,
    startedAt: (r.started_at as Date).toISOString(),
    finishedAt: r.finished_at ? (r.finished_at as Date).toISOString() : null,
    durationMs: r.finished_at ? (r.finished_at as Date).getTime() - (r.started_at as Date).getTime() : null,
    error: r.error,
    stages: stages.rows
      .filter((s) => s.run_id === r.id)
      .map((s) => ({ stage: s.stage as string, attempt: s.attempt as number, status: s.status as string, error: s.error as string | null })),
  }));
}
