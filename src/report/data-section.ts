import type pg from "pg";
import { DRIFT_DEFAULTS } from "../data/drift.js";
import { labelRates, type ExampleCounts } from "./example-counts.js";
import type { DataSection } from "./types.js";

/** PSI is shown to three significant digits: the heatmap colours it, nobody reads the fourth. */
const round3 = (x: number) => Number(x.toPrecision(3));

/**
 * Batches of rows since `from` (feedback batches carry labels for logged predictions, not rows): row counts, label rate, drift per feature, and the commonest quarantine
 * reasons. Everything is aggregated in PostgreSQL; what comes back is one row per batch, one per
 * (batch, feature) and ten reasons.
 */
export async function readDataSection(client: pg.ClientBase, from: Date | null, counts: ExampleCounts): Promise<DataSection> {
  const since = from ?? new Date(0);
  const batches = await client.query(
    `SELECT b.id, b.started_at, b.status, b.source_kind, b.source, b.rows_accepted, b.rows_quarantined, b.rows_duplicate,
            b.drift ->> 'verdict' AS drift
       FROM batches b
      WHERE b.started_at >= $1 AND b.source_kind <> 'feedback' ORDER BY b.id`,
    [since],
  );
  const reasons = await client.query(
    `SELECT r ->> 'field' AS field, r ->> 'code' AS code, min(r ->> 'problem') AS problem, count(*)::int AS rows
       FROM quarantined_rows q JOIN batches b ON b.id = q.batch_id, jsonb_array_elements(q.reasons) r
      WHERE b.started_at >= $1 GROUP BY 1, 2 ORDER BY 4 DESC, 1 LIMIT 10`,
    [since],
  );
  const drift = await client.query(
    `SELECT b.id, f ->> 'feature' AS feature, (f ->> 'psi')::float8 AS psi
       FROM batches b, jsonb_array_elements(b.drift -> 'features') f
      WHERE b.drift IS NOT NULL AND b.started_at >= $1 ORDER BY b.id`,
    [since],
  );
  const thresholds = await client.query(
    `SELECT drift -> 'thresholds' AS t FROM batches WHERE drift -> 'thresholds' IS NOT NULL ORDER BY id DESC LIMIT 1`,
  );
  const rates = labelRates(counts);
  const t = (thresholds.rows[0]?.t ?? {}) as { psiModerate?: number; psiSignificant?: number };

  const batchIds = [...new Set(drift.rows.map((r) => r.id as number))];
  const features = [...new Set(drift.rows.map((r) => r.feature as string))];
  const column = new Map(batchIds.map((id, i) => [id, i]));
  const psi = features.map(() => new Array<number | null>(batchIds.length).fill(null));
  const rowOf = new Map(features.map((name, i) => [name, psi[i]!]));
  for (const r of drift.rows) if (r.psi !== null) rowOf.get(r.feature)![column.get(r.id)!] = round3(r.psi);

  return {
    batches: batches.rows.map((r) => ({
      id: r.id,
      at: (r.started_at as Date).toISOString(),
      status: r.status,
      source: `${r.source_kind} ${r.source}`,
      stored: r.rows_accepted,
      quarantined: r.rows_quarantined,
      duplicate: r.rows_duplicate,
      labelRate: rates.get(r.id) ?? null,
      drift: r.drift,
    })),
    topReasons: reasons.rows.map((r) => ({ field: r.field, problem: r.code === null ? r.problem : `${r.code}: ${r.problem}`, rows: r.rows })),
    drift: {
      features,
      batches: batchIds,
      psi,
      moderate: t.psiModerate ?? DRIFT_DEFAULTS.psiModerate,
      significant: t.psiSignificant ?? DRIFT_DEFAULTS.psiSignificant,
    },
  };
}
