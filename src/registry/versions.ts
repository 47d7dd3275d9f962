import type pg from "pg";
import type { PrismaClient } from "../db/prisma.js";
import type { Prisma } from "../generated/prisma/client.js";
import { usageError } from "../errors.js";

export interface VersionRow {
  id: number;
  version: string;
  path: string;
  threshold: number;
  backend: string;
  createdAt: string;
  metrics: Record<string, unknown>;
  dataFingerprint: { rows: number; batches: Array<{ id: number; rows: number }>; maxBatchId: number };
  manifest: Record<string, unknown>;
}

/**
 * A version's number comes from the table's own sequence before training starts, so two
 * trainings at once get distinct versions, and the row itself is written only once the model
 * folder is complete.
 */
export async function reserveVersion(client: pg.ClientBase): Promise<{ id: number; version: string }> {
  const result = await client.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('model_versions', 'id')) AS id");
  const id = Number(result.rows[0]!.id);
  return { id, version: `v${id}` };
}

/** Registers a complete version (its id was reserved from the sequence before training). */
export async function registerVersion(prisma: PrismaClient, row: Omit<VersionRow, "createdAt">): Promise<void> {
  await prisma.modelVersion.create({
    data: {
      id: row.id,
      version: row.version,
      path: row.path,
      manifest: row.manifest as Prisma.InputJsonValue,
      metrics: row.metrics as Prisma.InputJsonValue,
      threshold: row.threshold,
      backend: row.backend,
      dataFingerprint: row.dataFingerprint as unknown as Prisma.InputJsonValue,
    },
  });
}

const SELECT_VERSION = `SELECT id, version, path, threshold, backend, created_at, metrics, data_fingerprint, manifest FROM model_versions`;

function toRow(r: Record<string, unknown>): VersionRow {
  return {
    id: r.id as number,
    version: r.version as string,
    path: r.path as string,
    threshold: r.threshold as number,
    backend: r.backend as string,
    createdAt: (r.created_at as Date).toISOString(),
    metrics: r.metrics as Record<string, unknown>,
    dataFingerprint: r.data_fingerprint as VersionRow["dataFingerprint"],
    manifest: r.manifest as Record<string, unknown>,
  };
}

/** The active version: the target of the newest promotion (the history is append-only). */
export async function activeVersion(client: pg.ClientBase): Promise<VersionRow | undefined> {
  const result = await client.query(`${SELECT_VERSION} WHERE id = (SELECT to_version_id FROM promotions ORDER BY id DESC LIMIT 1)`);
  return result.rows[0] ? toRow(result.rows[0]) : undefined;
}

/** Resolves `active`, `latest`, `candidate` (the newest version that is not active) or a version name. */
export async function findVersion(client: pg.ClientBase, ref: string): Promise<VersionRow> {
  let result: pg.QueryResult;
  if (ref === "active") {
    const active = await activeVersion(client);
    if (!active) throw usageError("NO_ACTIVE_VERSION", "No version is active yet.", "Promote one: `mlops promote <version>` (see `mlops models`).");
    return active;
  }
  if (ref === "latest") result = await client.query(`${SELECT_VERSION} ORDER BY id DESC LIMIT 1`);
  else if (ref === "candidate") {
    result = await client.query(
      `${SELECT_VERSION} WHERE id IS DISTINCT FROM (SELECT to_version_id FROM promotions ORDER BY id DESC LIMIT 1) ORDER BY id DESC LIMIT 1`,
    );
  } else result = await client.query(`${SELECT_VERSION} WHERE version = $1`, [ref]);
  if (!result.rows[0]) {
    // Every version but the active one is a candidate, so with no candidate and an active version
    // the only version there is is the active one.
    const active = ref === "candidate" ? await activeVersion(client) : undefined;
    if (active)
      throw usageError(
        "NO_CANDIDATE",
        `There is no candidate: the only trained version, ${active.version}, is active.`,
        "Train a candidate with `mlops train`, or evaluate the active one with `--model active`.",
      );
    throw usageError(
      "VERSION_NOT_FOUND",
      ref === "latest" || ref === "candidate" ? "There is no trained version yet." : `No version named "${ref}".`,
      "List versions with `mlops models`; train one with `mlops train`.",
    );
  }
  return toRow(result.rows[0]);
}

export interface VersionListing {
  version: string;
  active: boolean;
  createdAt: string;
  backend: string;
  trainingRows: number;
  validationF1: number | null;
  testF1: number | null;
  lastEvaluation: { f1: number; passed: boolean; dataSource: string; rows: number; at: string } | null;
}

export async function listVersions(client: pg.ClientBase): Promise<VersionListing[]> {
  const active = await activeVersion(client);
  const result = await client.query(
    `SELECT v.version, v.created_at, v.backend, v.metrics, v.data_fingerprint,
            e.f1 AS eval_f1, e.passed, e.data_source, e.row_count, e.created_at AS eval_at
       FROM model_versions v
       LEFT JOIN LATERAL (SELECT * FROM evaluations WHERE version_id = v.id ORDER BY id DESC LIMIT 1) e ON true
      ORDER BY v.id DESC`,
  );
  return result.rows.map((r) => ({
    version: r.version,
    active: r.version === active?.version,
    createdAt: (r.created_at as Date).toISOString(),
    backend: r.backend,
    trainingRows: r.data_fingerprint?.rows ?? 0,
    validationF1: r.metrics?.validation?.f1 ?? null,
    testF1: r.metrics?.test?.f1 ?? null,
    lastEvaluation:
      r.eval_f1 === null
        ? null
        : { f1: r.eval_f1, passed: r.passed, dataSource: r.data_source, rows: r.row_count, at: (r.eval_at as Date).toISOString() },
  }));
}
