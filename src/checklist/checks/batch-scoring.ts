import pg from "pg";
import { RowScorer } from "../../pipeline/predict/row-scorer.js";
import { loadServingModel } from "../../server/serving-model.js";
import type { RawRow } from "../../data/types.js";
import { fail, pass, type CheckContext, type CheckResult } from "../context.js";
import { modelChecks } from "./model.js";

/** The probability `mlops predict` gives a row with a version, loaded afresh each time. */
async function batchProbability(ctx: CheckContext, client: pg.ClientBase, version: string, row: RawRow): Promise<number | string> {
  const model = await loadServingModel(ctx.project, client, version);
  const scorer = new RowScorer(ctx.project.config, model, false);
  const checked = scorer.check({ line: 1, row }, {});
  if (!checked.ok) return checked.problems.map((p) => `${p.field ?? "(row)"}: ${p.problem}`).join("; ");
  return scorer.probability(checked.values);
}

export const batchScoringChecks = {
  /**
   * "Model loaded successfully", read as a version that loads and predicts reproducibly: its
   * files pass their checksums, two independent loads score a real row through the batch path
   * (`mlops predict`) to the same bits, and a running server gives that row the same bits too.
   */
  async modelLoadsReproducibly(ctx: CheckContext): Promise<CheckResult> {
    const files = await modelChecks.modelFiles(ctx);
    if (!files.ok) return files;
    const [served] = await ctx.query<{ version: string }>(
      "SELECT v.version FROM promotions p JOIN model_versions v ON v.id = p.to_version_id ORDER BY p.id DESC LIMIT 1",
    );
    if (!served) return fail("no version is active: mlops promote <version>");
    const row = (await ctx.sampleRow()) as RawRow;
    const client = new pg.Client({ connectionString: (await ctx.database()).url, application_name: "mlops checklist" });
    client.on("error", () => undefined);
    await client.connect();
    try {
      const first = await batchProbability(ctx, client, served.version, row);
      if (typeof first === "string") return fail(`${served.version}: the sample row does not validate (${first})`);
      const second = await batchProbability(ctx, client, served.version, row);
      if (!Object.is(first, second)) return fail(`${served.version}: two loads score the same row ${first} and ${second}`);
      const answer = await ctx.prediction();
      const evidence = `${files.evidence}; ${served.version} scores a stored row ${first} on two loads (mlops predict's path)`;
      if ("error" in answer) return pass(`${evidence}; no server to compare with`);
      const body = answer.body as { probability?: unknown; model_version?: unknown };
      if (body.model_version !== served.version) return pass(`${evidence}; the server runs ${String(body.model_version)}, not compared`);
      return Object.is(body.probability, first)
        ? pass(`${evidence}, the same bits as POST /predict`)
        : fail(`${served.version}: mlops predict gives ${first}, POST /predict ${String(body.probability)} for the same row`);
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};
