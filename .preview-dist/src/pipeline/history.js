/** What `mlops runs` shows: recent runs with their stage attempts. */
export async function listRuns(client, pipeline, limit) {
    const runs = await client.query(`SELECT id, pipeline, status, trigger, started_at, finished_at, error FROM pipeline_runs
      ${pipeline ? "WHERE pipeline = $2" : ""} ORDER BY id DESC LIMIT $1`, pipeline ? [limit, pipeline] : [limit]);
    const ids = runs.rows.map((r) => r.id);
    const stages = ids.length
        ? await client.query("SELECT run_id, stage, attempt, status, error FROM stage_runs WHERE run_id = ANY($1) ORDER BY id", [ids])
        : { rows: [] };
    return runs.rows.map((r) => ({
        id: r.id,
        pipeline: r.pipeline,
        status: r.status,
        trigger: r.trigger,
        startedAt: r.started_at.toISOString(),
        finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
        durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
        error: r.error,
        stages: stages.rows
            .filter((s) => s.run_id === r.id)
            .map((s) => ({ stage: s.stage, attempt: s.attempt, status: s.status, error: s.error })),
    }));
}
//# sourceMappingURL=history.js.map