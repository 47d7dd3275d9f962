import path from "node:path";
import { loadModelFolder } from "../../model/artifacts.js";
import { loadTf } from "../../model/backend.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";
import { formatCount } from "../../terminal/format.js";

interface VersionFacts {
  id: number;
  version: string;
  path: string;
  metrics: { validation?: { f1: number; rocAuc: number | null }; test?: { f1: number } | null; epochs?: { pretrain: number; classifier: number } };
}

/** The active version, else the newest one: what the model checks look at. */
function servedVersion(ctx: CheckContext): Promise<(VersionFacts & { active: boolean }) | undefined> {
  return ctx.memo("served-version", async () => {
    const active = await ctx.query<VersionFacts>(
      "SELECT v.id, v.version, v.path, v.metrics FROM promotions p JOIN model_versions v ON v.id = p.to_version_id ORDER BY p.id DESC LIMIT 1",
    );
    if (active[0]) return { ...active[0], active: true };
    const latest = await ctx.query<VersionFacts>("SELECT id, version, path, metrics FROM model_versions ORDER BY id DESC LIMIT 1");
    return latest[0] ? { ...latest[0], active: false } : undefined;
  });
}

const NO_VERSION = "no model version yet: run mlops train (or mlops up)";

export const modelChecks = {
  async sampleData(ctx: CheckContext): Promise<CheckResult> {
    // The seed system's "sample data generated" step exists to have data to train on: a project
    // that collected its own rows has that, and must not be told to mix synthetic rows into them.
    const rows = await ctx.query<{ kind: string; batches: number; rows: number }>(
      "SELECT source_kind AS kind, count(*)::int AS batches, coalesce(sum(rows_accepted), 0)::int AS rows FROM batches WHERE status = 'accepted' AND source_kind <> 'feedback' GROUP BY source_kind",
    );
    const synthetic = rows.find((r) => r.kind === "synthetic");
    if (synthetic && synthetic.rows >= 1000) return pass(`${synthetic.rows} synthetic rows in ${synthetic.batches} batch(es) (mlops seed)`);
    const collected = rows.filter((r) => r.kind !== "synthetic" && r.rows > 0);
    if (collected.length > 0) {
      const total = collected.reduce((sum, r) => sum + r.rows, 0);
      return pass(`${total} rows collected from your own data (${collected.map((r) => r.kind).join(", ")}); no synthetic sample needed`);
    }
    return fail(`${synthetic?.rows ?? 0} rows stored: collect your data (mlops collect --file data.csv) or generate a sample (mlops seed 1000)`);
  },

  async dataVisible(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ n: number; labelled: number }>("SELECT count(*)::int AS n, count(label)::int AS labelled FROM examples");
    return row!.n > 0
      ? pass(`${row!.n} examples stored, ${row!.labelled} labelled (mlops data)`)
      : fail("no examples stored: mlops seed or mlops collect");
  },

  async dataValidated(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ id: number; status: string; read: number; quarantined: number }>(
      "SELECT id, status, rows_read AS read, rows_quarantined AS quarantined FROM batches WHERE source_kind <> 'feedback' ORDER BY id DESC LIMIT 1",
    );
    const last = rows[0];
    if (!last) return fail("no batch has been collected yet");
    const evidence = `latest batch ${last.id}: ${last.read} rows validated, ${last.quarantined} quarantined, ${last.status}`;
    return last.status === "accepted" ? pass(evidence) : fail(`${evidence}: see mlops data quarantine --batch ${last.id}`);
  },

  async sourcesConfigured(ctx: CheckContext): Promise<CheckResult> {
    const names = Object.keys(ctx.project.config.sources);
    return names.length > 0
      ? pass(`sources in mlops.config.json: ${names.join(", ")}`)
      : fail('no sources configured: add them under "sources" in mlops.config.json (file, url or query)');
  },

  async validationLogic(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ quarantined: number }>("SELECT count(*)::int AS quarantined FROM quarantined_rows");
    const features = ctx.project.config.features;
    return pass(
      `every row is checked against ${features.length} features (types, ranges, categories, nulls, label values, duplicates); ${row!.quarantined} rows quarantined with reasons so far`,
    );
  },

  async qualityChecks(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ drift: number; batches: number }>(
      "SELECT count(drift)::int AS drift, count(*)::int AS batches FROM batches WHERE source_kind <> 'feedback'",
    );
    return pass(
      `batches over ${(ctx.project.config.collect.maxInvalid * 100).toFixed(1)}% invalid rows are rejected; ${row!.drift} of ${row!.batches} batches have a drift report`,
    );
  },

  async recentDataQuality(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ rejected: number; drifted: number; n: number }>(
      `SELECT count(*) FILTER (WHERE status = 'rejected')::int AS rejected, count(*) FILTER (WHERE drift ->> 'verdict' = 'drift')::int AS drifted, count(*)::int AS n
         FROM batches WHERE started_at > now() - interval '7 days' AND source_kind <> 'feedback'`,
    );
    const { rejected, drifted, n } = rows[0]!;
    const evidence = `last 7 days: ${formatCount(Number(n), "batch", "batches")}, ${rejected} rejected, ${drifted} with drift`;
    return rejected === 0 ? pass(evidence) : fail(`${evidence}: see mlops data and mlops data quarantine`);
  },

  async trainingTriggered(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ n: number }>("SELECT count(*)::int AS n FROM model_versions");
    return row!.n > 0 ? pass(`${row!.n} version(s) trained`) : fail(NO_VERSION);
  },

  async pretrainingDone(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    if (!version) return fail(NO_VERSION);
    const epochs = version.metrics.epochs?.pretrain ?? 0;
    return epochs > 0
      ? pass(`${version.version}: autoencoder pretrained for ${epochs} epochs`)
      : fail(`${version.version} was trained without pretraining (--no-pretrain)`);
  },

  async classifierTrained(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    if (!version) return fail(NO_VERSION);
    return pass(
      `${version.version}: classifier trained for ${version.metrics.epochs?.classifier ?? "?"} epochs, validation F1 ${version.metrics.validation?.f1.toFixed(3)}`,
    );
  },

  async modelFiles(ctx: CheckContext): Promise<CheckResult> {
    return ctx.memo("model-files", async () => {
      const version = await servedVersion(ctx);
      if (!version) return fail(NO_VERSION);
      const dir = path.resolve(ctx.project.root, version.path);
      try {
        const { tf } = await loadTf();
        const { model } = await loadModelFolder(tf, dir);
        model.dispose();
        return pass(`${dir}: model.json, weights.bin, manifest.json present, sha256 checksums match`);
      } catch (error) {
        return fail(`${version.version}: ${(error as Error).message}`);
      }
    });
  },

  async modelMetadata(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    if (!version) return fail(NO_VERSION);
    const [row] = await ctx.query<{ keys: string[] }>("SELECT array(SELECT jsonb_object_keys(manifest)) AS keys FROM model_versions WHERE id = $1", [
      version.id,
    ]);
    const needed = ["preprocess", "threshold", "metrics", "dataFingerprint", "hyperparameters", "files"];
    const missing = needed.filter((k) => !row!.keys.includes(k));
    return missing.length === 0
      ? pass(`${version.version}: manifest, metrics, threshold and data fingerprint stored in model_versions`)
      : fail(`${version.version}: the stored manifest lacks ${missing.join(", ")}`);
  },

  async trainingMetrics(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    if (!version) return fail(NO_VERSION);
    const v = version.metrics.validation;
    const evidence = `${version.version}: validation F1 ${v?.f1.toFixed(3)}, ROC AUC ${v?.rocAuc?.toFixed(3) ?? "-"}, test F1 ${version.metrics.test?.f1.toFixed(3) ?? "-"}`;
    return v && v.f1 >= ctx.project.config.gate.f1Threshold && (v.rocAuc ?? 0) > 0.6
      ? pass(evidence)
      : fail(`${evidence}: below the gate; collect more data or retrain`);
  },

  modelLoads: (ctx: CheckContext) => modelChecks.modelFiles(ctx),

  async evaluationExists(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ n: number; last: Date | null }>("SELECT count(*)::int AS n, max(created_at) AS last FROM evaluations");
    return row!.n > 0
      ? pass(`${formatCount(Number(row!.n), "evaluation")} stored, the last at ${row!.last!.toISOString()}`)
      : fail("no evaluation yet: mlops evaluate");
  },

  async f1MeetsThreshold(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    if (!version) return fail(NO_VERSION);
    const rows = await ctx.query<{ f1: number; data_source: string; row_count: number }>(
      "SELECT f1, data_source, row_count FROM evaluations WHERE version_id = $1 ORDER BY id DESC LIMIT 1",
      [version.id],
    );
    const threshold = ctx.project.config.gate.f1Threshold;
    if (!rows[0]) return fail(`${version.version} has no evaluation: mlops evaluate --model ${version.version}`);
    const evidence = `${version.version}: F1 ${rows[0].f1.toFixed(4)} on ${rows[0].row_count} ${rows[0].data_source} rows (threshold ${threshold})`;
    return rows[0].f1 >= threshold ? pass(evidence) : fail(`${evidence}: retrain (mlops run validation-deployment)`);
  },

  async activeVersion(ctx: CheckContext): Promise<CheckResult> {
    const version = await servedVersion(ctx);
    return version?.active ? pass(`${version.version} is active`) : fail("no version is active: mlops promote <version>");
  },

  async versionsDistinct(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ version: string; path: string; manifest_version: string }>(
      "SELECT version, path, manifest ->> 'version' AS manifest_version FROM model_versions",
    );
    const mismatched = rows.filter((r) => r.manifest_version !== r.version || path.basename(r.path) !== r.version);
    if (rows.length === 0) return fail(NO_VERSION);
    return mismatched.length === 0
      ? pass(
          `${formatCount(rows.length, "version")}, each with its own folder and manifest (${rows
            .map((r) => r.version)
            .slice(0, 6)
            .join(", ")}${rows.length > 6 ? ", ..." : ""})`,
        )
      : fail(`versions whose folder or manifest disagree: ${mismatched.map((r) => r.version).join(", ")}`);
  },

  async gateWorking(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ n: number; failed: number }>(
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT passed)::int AS failed FROM evaluations WHERE gate -> 'checks' IS NOT NULL",
    );
    return row!.n > 0
      ? pass(
          `${formatCount(Number(row!.n), "evaluation")} gated on F1 >= ${ctx.project.config.gate.f1Threshold} and the active version (${row!.failed} failed); promote refuses versions that did not pass`,
        )
      : fail("no gated evaluation yet: mlops evaluate");
  },

  async rollbackTested(ctx: CheckContext): Promise<CheckResult> {
    const rows = await ctx.query<{ at: Date; actor: string }>(
      "SELECT created_at AS at, actor FROM promotions WHERE action = 'rollback' ORDER BY id DESC LIMIT 1",
    );
    return rows[0]
      ? pass(`last rollback ${rows[0].at.toISOString()} by ${rows[0].actor} (mlops promote --rollback)`)
      : fail("no rollback recorded: try mlops promote --rollback (then promote again)");
  },
};
