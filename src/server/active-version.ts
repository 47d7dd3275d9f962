import type pg from "pg";

/** The name of the registry's active version (null: none is active). One small query: no manifest. */
export async function activeVersionName(db: pg.Pool | pg.ClientBase): Promise<string | null> {
  const result = await (db as pg.ClientBase).query<{ version: string }>(
    "SELECT version FROM model_versions WHERE id = (SELECT to_version_id FROM promotions ORDER BY id DESC LIMIT 1)",
  );
  return result.rows[0]?.version ?? null;
}

export interface ProbeState {
  up: boolean;
  /** undefined while the database is down. */
  active: string | null | undefined;
}

/** Whether the database answers and which version it says is active, asked at most once a second. */
export function cachedProbe(pool: pg.Pool): () => Promise<ProbeState> {
  let last: ProbeState & { at: number } = { at: 0, up: true, active: undefined };
  let pending: Promise<ProbeState> | undefined;
  return () => {
    if (Date.now() - last.at < 1000) return Promise.resolve(last);
    pending ??= activeVersionName(pool)
      .then(
        (active) => ({ up: true, active }),
        () => ({ up: false, active: undefined }),
      )
      .then((state) => {
        last = { ...state, at: Date.now() };
        pending = undefined;
        return state;
      });
    return pending;
  };
}
