import type pg from "pg";
import type { Lineage, Scores } from "./types.js";

/** Scores from a stored ClassificationMetrics (manifest or evaluation); null when absent. */
export function scoresOf(metrics: unknown): Scores | null {
  const m = metrics as Record<string, unknown> | null | undefined;
  if (!m || typeof m.f1 !== "number") return null;
  const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);
  return {
    f1: m.f1,
    rocAuc: typeof m.rocAuc === "number" ? m.rocAuc : null,
    precision: num(m.precision),
    recall: num(m.recall),
    rows: num(m.rows),
  };
}

/**
 * Every version with its training scores, every stored evaluation, and the promotion history.
 * Reads only the metrics part of each manifest in SQL: the manifests hold the training profile,
 * which is most of their size, and 200 versions of it would be megabytes on the wire.
 */
export async function readLineage(client: pg.ClientBase, activeId: number | null): Promise<Lineage> {
  const versions = await client.query(
    `SELECT id, version, created_at, threshold, data_fingerprint -> 'rows' AS rows,
            metrics -> 'validation' AS validation, metrics -> 'test' AS test
       FROM model_versions ORDER BY id`,
  );
  const evaluations = await client.query(
    `SELECT v.version, e.created_at, e.data_source, e.passed, e.f1, e.row_count,
            e.metrics -> 'rocAuc' AS roc_auc, e.metrics -> 'precision' AS precision, e.metrics -> 'recall' AS recall
       FROM evaluations e JOIN model_versions v ON v.id = e.version_id ORDER BY e.id`,
  );
  const promotions = await client.query(
    `SELECT p.created_at, p.action, f.version AS from_version, t.version AS to_version, p.actor, p.reason
       FROM promotions p JOIN model_versions t ON t.id = p.to_version_id LEFT JOIN model_versions f ON f.id = p.from_version_id
      ORDER BY p.id`,
  );
  return {
    versions: versions.rows.map((r) => ({
      version: r.version,
      createdAt: (r.created_at as Date).toISOString(),
      active: r.id === activeId,
      trainingRows: Number(r.rows ?? 0),
      threshold: r.threshold,
      validation: scoresOf(r.validation),
      test: scoresOf(r.test),
    })),
    evaluations: evaluations.rows.map((r) => ({
      version: r.version,
      at: (r.created_at as Date).toISOString(),
      dataSource: r.data_source,
      passed: r.passed,
      scores: {
        f1: r.f1,
        rocAuc: typeof r.roc_auc === "number" ? r.roc_auc : null,
        precision: Number(r.precision ?? 0),
        recall: Number(r.recall ?? 0),
        rows: r.row_count,
      },
    })),
    promotions: promotions.rows.map((r) => ({
      at: (r.created_at as Date).toISOString(),
      action: r.action,
      from: r.from_version ?? null,
      to: r.to_version,
      actor: r.actor,
      reason: r.reason ?? null,
    })),
  };
}
