import os from "node:os";
import path from "node:path";
import type pg from "pg";
import type { PrismaClient } from "../db/prisma.js";
import { ExitCode, MlopsError, usageError } from "../errors.js";
import { withTransaction } from "../db/transaction.js";
import { MODEL_CHANNEL } from "./channel.js";
import { readModelFiles } from "../model/artifacts.js";
import { activeVersion, findVersion, type VersionRow } from "./versions.js";

/** Serialises promotions so two at once leave one active version and two ordered history rows. */
const PROMOTE_LOCK = 0x6d6c7072; // "mlpr"

export interface PromoteRequest {
  version?: string;
  rollback?: boolean;
  force?: boolean;
  reason?: string;
  actor?: string;
  /**
   * The project root: the target's files are then verified against the checksums the registry
   * stored before it becomes active (a version whose files fail is refused, even with --force).
   */
  projectRoot?: string;
}

export interface PromotionResult {
  action: "promote" | "force" | "rollback" | "unchanged";
  from: string | null;
  to: string;
  evaluation: { id: number; f1: number; passed: boolean; dataSource: string } | null;
  reason: string | null;
  actor: string;
  /** Running servers that were listening for promotions when it committed. */
  serversNotified: number;
}

export interface HistoryEntry {
  id: number;
  at: string;
  action: string;
  from: string | null;
  to: string;
  actor: string;
  reason: string | null;
  evaluation: { id: number; f1: number; passed: boolean } | null;
}

const defaultActor = (): string => process.env.MLOPS_ACTOR ?? safeUser();

function safeUser(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return os.hostname();
  }
}

/**
 * Makes a version active: only when its latest evaluation passed the gate, unless forced with a
 * reason. Appends to the history (never rewrites it) and notifies running servers in the same
 * transaction, so they reload exactly when the promotion is visible.
 */
export async function promoteVersion(client: pg.ClientBase, request: PromoteRequest): Promise<PromotionResult> {
  const actor = request.actor ?? defaultActor();
  if (request.force && !request.reason?.trim()) {
    throw usageError(
      "REASON_REQUIRED",
      "--force needs --reason: overriding the gate is recorded with why.",
      `mlops promote ${request.rollback ? "--rollback" : (request.version ?? "<version>")} --force --reason "hotfix approved by the on-call"`,
    );
  }
  return withTransaction(client, async (tx): Promise<PromotionResult> => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [PROMOTE_LOCK]);
    const current = await activeVersion(client);
    const target = request.rollback ? await previousVersion(client, current?.id) : await findVersion(client, request.version ?? "candidate");
    const evaluation = await latestEvaluation(client, target.id);
    if (request.projectRoot !== undefined) await verifyFiles(request.projectRoot, target);
    if (current?.id === target.id) {
      tx.rollback();
      return { action: "unchanged", from: current.version, to: target.version, evaluation, reason: null, actor, serversNotified: 0 };
    }
    if (!request.rollback && !request.force) {
      if (!evaluation) {
        throw new MlopsError("PROMOTE_REFUSED", `${target.version} has not been evaluated, so the gate cannot pass.`, {
          exitCode: ExitCode.gateFailed,
          hint: `Run \`mlops evaluate --model ${target.version}\` first (or --force --reason "..." to override).`,
        });
      }
      if (!evaluation.passed) {
        throw new MlopsError(
          "PROMOTE_REFUSED",
          `${target.version} failed the gate in its latest evaluation (F1 ${evaluation.f1.toFixed(4)} on ${evaluation.dataSource} data).`,
          {
            exitCode: ExitCode.gateFailed,
            hint: 'Train a better candidate, or override with --force --reason "..." (recorded in the history).',
            details: { evaluation },
          },
        );
      }
    }
    const action = request.rollback ? "rollback" : request.force ? "force" : "promote";
    await client.query(
      `INSERT INTO promotions (from_version_id, to_version_id, action, actor, reason, evaluation_id) VALUES ($1, $2, $3, $4, $5, $6)`,
      [current?.id ?? null, target.id, action, actor, request.reason?.trim() || null, evaluation?.id ?? null],
    );
    await client.query("SELECT pg_notify($1, $2)", [MODEL_CHANNEL, target.version]);
    const listeners = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'mlops serve listener'",
    );
    return {
      action,
      from: current?.version ?? null,
      to: target.version,
      evaluation,
      reason: request.reason?.trim() || null,
      actor,
      serversNotified: listeners.rows[0]!.n,
    };
  });
}

/** A version whose files do not match the registry cannot become active: a server would refuse to load it. */
async function verifyFiles(root: string, target: VersionRow): Promise<void> {
  try {
    await readModelFiles(path.resolve(root, target.path), target.manifest);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    throw new MlopsError("PROMOTE_REFUSED", `${target.version} cannot be promoted: ${error.message}`, {
      exitCode: ExitCode.usage,
      hint: error.hint ?? "Restore the model folder or retrain.",
      cause: error,
    });
  }
}

/** The version that was active before the current one (the previous history entry's target). */
async function previousVersion(client: pg.ClientBase, currentId: number | undefined) {
  if (currentId === undefined)
    throw usageError("NOTHING_TO_ROLL_BACK", "No version is active, so there is nothing to roll back.", "Promote one first.");
  const result = await client.query<{ version: string }>(
    `SELECT v.version FROM promotions p JOIN model_versions v ON v.id = p.to_version_id
      WHERE p.to_version_id <> $1 ORDER BY p.id DESC LIMIT 1`,
    [currentId],
  );
  if (!result.rows[0]) throw usageError("NOTHING_TO_ROLL_BACK", "No earlier version was ever active.", "See `mlops promote --history`.");
  return findVersion(client, result.rows[0].version);
}

async function latestEvaluation(client: pg.ClientBase, versionId: number) {
  const result = await client.query<{ id: number; f1: number; passed: boolean; data_source: string }>(
    "SELECT id, f1, passed, data_source FROM evaluations WHERE version_id = $1 ORDER BY id DESC LIMIT 1",
    [versionId],
  );
  const row = result.rows[0];
  return row ? { id: row.id, f1: row.f1, passed: row.passed, dataSource: row.data_source } : null;
}

export async function promotionHistory(prisma: PrismaClient, limit = 100): Promise<HistoryEntry[]> {
  const rows = await prisma.promotion.findMany({
    orderBy: { id: "desc" },
    take: limit,
    include: {
      fromVersion: { select: { version: true } },
      toVersion: { select: { version: true } },
      evaluation: { select: { id: true, f1: true, passed: true } },
    },
  });
  return rows.map((r) => ({
    id: r.id,
    at: r.createdAt.toISOString(),
    action: r.action,
    from: r.fromVersion?.version ?? null,
    to: r.toVersion.version,
    actor: r.actor,
    reason: r.reason,
    evaluation: r.evaluation,
  }));
}
