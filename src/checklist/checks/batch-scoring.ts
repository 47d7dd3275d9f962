import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PACKAGE_ROOT } from "../../package-root.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";
import { modelChecks } from "./model.js";

const run = promisify(execFile);
const CLI = path.join(PACKAGE_ROOT, "dist", "bin", "mlops.js");

/**
 * The probability `mlops predict` gives a row, run as a user runs it. A child process: loading
 * tfjs and the model in this one would stall the event loop while the latency checks running
 * beside it time their requests.
 */
async function batchProbability(
  ctx: CheckContext,
  version: string,
  row: Record<string, unknown>,
): Promise<{ probability: number } | { error: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-checklist-"));
  try {
    await writeFile(path.join(dir, "row.jsonl"), `${JSON.stringify(row)}\n`, { mode: 0o600 });
    const args = [CLI, "predict", "--file", path.join(dir, "row.jsonl"), "--out", path.join(dir, "scored.jsonl"), "--model", version, "--json"];
    const child = run(process.execPath, args, { cwd: ctx.project.root, timeout: 60_000 });
    // At the lowest priority: on a small machine its CPU would otherwise slow the server and the
    // database under the latency checks running beside it.
    if (child.child.pid !== undefined) os.setPriority(child.child.pid, 19);
    const result = await child.catch((error: { stdout?: string; stderr?: string; message: string }) => ({ error }));
    if ("error" in result) return { error: (result.error.stderr || result.error.message).trim().split("\n")[0]! };
    const scored = JSON.parse((await readFile(path.join(dir, "scored.jsonl"), "utf8")).trim().split("\n")[0] || "{}") as { probability?: number };
    return typeof scored.probability === "number"
      ? { probability: scored.probability }
      : { error: "the row was rejected (see mlops predict --rejects)" };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const batchScoringChecks = {
  /**
   * "Model loaded successfully", read as a version that loads and predicts reproducibly: its
   * files pass their checksums, `mlops predict` loads it and scores a stored row, and a running
   * server gives that row the same probability to the last bit.
   */
  async modelLoadsReproducibly(ctx: CheckContext): Promise<CheckResult> {
    const files = await modelChecks.modelFiles(ctx);
    if (!files.ok) return files;
    const [served] = await ctx.query<{ version: string }>(
      "SELECT v.version FROM promotions p JOIN model_versions v ON v.id = p.to_version_id ORDER BY p.id DESC LIMIT 1",
    );
    if (!served) return fail("no version is active: mlops promote <version>");
    const row = await ctx.sampleRow();
    const [batch, answer] = await Promise.all([batchProbability(ctx, served.version, row), ctx.prediction()]);
    if ("error" in batch) return fail(`mlops predict with ${served.version} failed: ${batch.error}`);
    const evidence = `${files.evidence}; mlops predict scores a stored row ${batch.probability} with ${served.version}`;
    if ("error" in answer) return pass(`${evidence}; no server to compare with`);
    const body = answer.body as { probability?: unknown; model_version?: unknown; error?: unknown };
    if (answer.status !== 200)
      return fail(`POST /predict answered ${answer.status} for a stored row (${String(body.error ?? "no error text")}); mlops predict scored it`);
    if (body.model_version !== served.version) return pass(`${evidence}; the server runs ${String(body.model_version)}, not compared`);
    return Object.is(body.probability, batch.probability)
      ? pass(`${evidence}, the same bits as POST /predict`)
      : fail(`${served.version}: mlops predict gives ${batch.probability}, POST /predict ${String(body.probability)} for the same row`);
  },
};
