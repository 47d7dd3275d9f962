import type pg from "pg";
import type { DataProfile } from "./profile.js";

export interface DriftReference {
  profile: DataProfile;
  /** What the reference is, for the report: "model v3 training data" or "batch 1". */
  source: string;
}

/**
 * The data a batch is compared with: what the active model was trained on (its manifest holds
 * that profile), else the first accepted batch. Undefined for a project's first batch.
 */
export async function loadDriftReference(client: pg.ClientBase): Promise<DriftReference | undefined> {
  const active = await client.query<{ version: string; profile: DataProfile | null }>(
    `SELECT v.version, v.manifest -> 'profile' AS profile
       FROM promotions p JOIN model_versions v ON v.id = p.to_version_id
      ORDER BY p.id DESC LIMIT 1`,
  );
  const model = active.rows[0];
  if (model?.profile) return { profile: model.profile, source: `model ${model.version} training data` };
  const first = await client.query<{ id: number; profile: DataProfile | null }>(
    `SELECT id, report -> 'profile' AS profile FROM batches
      WHERE status = 'accepted' AND source_kind <> 'feedback' AND report ? 'profile'
      ORDER BY id LIMIT 1`,
  );
  const batch = first.rows[0];
  return batch?.profile ? { profile: batch.profile, source: `batch ${batch.id}` } : undefined;
}
