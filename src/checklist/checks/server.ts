import { fail, pass, type CheckContext, type CheckResult, type HttpAnswer } from "../context.js";

type Health = { status: string; model_loaded: boolean; model_version: string | null; database: string };

async function healthOrFail(ctx: CheckContext): Promise<HttpAnswer | CheckResult> {
  const health = await ctx.health();
  return "error" in health ? fail(health.error) : health;
}

const isResult = (value: unknown): value is CheckResult => typeof value === "object" && value !== null && "ok" in value && "evidence" in value;

async function activeVersionName(ctx: CheckContext): Promise<string | null> {
  const rows = await ctx.query<{ version: string }>(
    "SELECT v.version FROM promotions p JOIN model_versions v ON v.id = p.to_version_id ORDER BY p.id DESC LIMIT 1",
  );
  return rows[0]?.version ?? null;
}

/** p95 of 50 sequential /predict requests, measured once per run. */
function latencySample(ctx: CheckContext): Promise<{ p95: number; p50: number; errors: number } | { error: string }> {
  return ctx.memo("latency", async () => {
    const row = await ctx.sampleRow();
    const times: number[] = [];
    let errors = 0;
    for (let i = 0; i < 50; i += 1) {
      try {
        const answer = await ctx.http("/predict", ctx.predictInit(row));
        if (answer.status !== 200) errors += 1;
        times.push(answer.ms);
      } catch (error) {
        return { error: (error as Error).message };
      }
    }
    times.sort((a, b) => a - b);
    return { p95: times[Math.floor(times.length * 0.95)]!, p50: times[Math.floor(times.length / 2)]!, errors };
  });
}

export const serverChecks = {
  async apiReachable(ctx: CheckContext): Promise<CheckResult> {
    const health = await healthOrFail(ctx);
    return isResult(health) ? health : pass(`${ctx.url}/health answered ${health.status} in ${health.ms.toFixed(0)} ms`);
  },

  async health200(ctx: CheckContext): Promise<CheckResult> {
    const health = await healthOrFail(ctx);
    if (isResult(health)) return health;
    const body = health.body as Health;
    return health.status === 200 ? pass(`GET /health: 200 ${JSON.stringify(body)}`) : fail(`GET /health: ${health.status} ${JSON.stringify(body)}`);
  },

  async healthVersion(ctx: CheckContext): Promise<CheckResult> {
    const health = await healthOrFail(ctx);
    if (isResult(health)) return health;
    const served = (health.body as Health).model_version;
    const active = await activeVersionName(ctx);
    return served !== null && served === active
      ? pass(`/health shows ${served}, the active version`)
      : fail(
          `/health shows ${served ?? "no model"} but the active version is ${active ?? "none"}: the server follows promotions; POST /reload-model or restart it`,
        );
  },

  async healthModelLoaded(ctx: CheckContext): Promise<CheckResult> {
    const health = await healthOrFail(ctx);
    if (isResult(health)) return health;
    return (health.body as Health).model_loaded ? pass("model_loaded: true") : fail("model_loaded: false: promote a version (mlops promote)");
  },

  async predictAccepts(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.prediction();
    if ("error" in answer) return fail(answer.error);
    return answer.status === 200
      ? pass(`POST /predict: 200 in ${answer.ms.toFixed(1)} ms`)
      : fail(`POST /predict: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  },

  async predictProbabilities(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.prediction();
    if ("error" in answer) return fail(answer.error);
    const probability = (answer.body as { probability?: unknown }).probability;
    return typeof probability === "number" && probability >= 0 && probability <= 1
      ? pass(`probability ${probability.toFixed(6)} in [0, 1]`)
      : fail(`the answer's probability is ${JSON.stringify(probability)}`);
  },

  async predictionsLogged(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.prediction();
    if ("error" in answer) return fail(answer.error);
    const id = (answer.body as { prediction_id?: string }).prediction_id;
    if (!id) return fail("the answer had no prediction_id");
    // The log is written off the request path, every 200 ms.
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const rows = await ctx.query("SELECT 1 FROM predictions WHERE id = $1", [id]);
      if (rows.length > 0) return pass(`prediction ${id} is in the predictions table`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return fail(
      `prediction ${id} did not reach the predictions table within 5 s: is the server running with --no-log-predictions, or against another database?`,
    );
  },

  async responseTime(ctx: CheckContext): Promise<CheckResult> {
    const sample = await latencySample(ctx);
    if ("error" in sample) return fail(`no server answers at ${ctx.url}: ${sample.error}`);
    const evidence = `50 POST /predict: p50 ${sample.p50.toFixed(1)} ms, p95 ${sample.p95.toFixed(1)} ms${sample.errors ? `, ${sample.errors} errors` : ""} (limit 100 ms)`;
    return sample.p95 < 100 && sample.errors === 0 ? pass(evidence) : fail(evidence);
  },

  async modelInfo(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.http("/model-info").catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    const body = answer.body as { version?: string; threshold?: number; feature_schema?: unknown[] };
    const rows = await ctx.query<{ threshold: number }>("SELECT threshold FROM model_versions WHERE version = $1", [body.version ?? ""]);
    const ok =
      answer.status === 200 &&
      rows[0] !== undefined &&
      rows[0].threshold === body.threshold &&
      body.feature_schema?.length === ctx.project.config.features.length;
    return ok
      ? pass(`GET /model-info: ${body.version}, threshold ${body.threshold}, ${body.feature_schema?.length} features, as in the database`)
      : fail(`GET /model-info answered ${answer.status} with data that does not match the database: ${JSON.stringify(body).slice(0, 200)}`);
  },

  async reloadModel(ctx: CheckContext): Promise<CheckResult> {
    if (!ctx.apiKey) return fail("MLOPS_API_KEY is not set here, so /reload-model cannot be exercised: set it for the server and for this command");
    const answer = await ctx
      .http("/reload-model", { method: "POST", headers: { "x-api-key": ctx.apiKey } })
      .catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    const active = await activeVersionName(ctx);
    const body = answer.body as { model_version?: string };
    return answer.status === 200 && body.model_version === active
      ? pass(`POST /reload-model with the key: 200, serving ${body.model_version} (the active version)`)
      : fail(`POST /reload-model: ${answer.status} ${JSON.stringify(body).slice(0, 200)}`);
  },

  async authentication(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.http("/reload-model", { method: "POST" }).catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    return answer.status === 401 || answer.status === 403
      ? pass(
          `POST /reload-model without a key: ${answer.status}; the key is compared in constant time${ctx.project.config.serve.requireApiKey ? "; /predict needs it too" : ""}`,
        )
      : fail(`POST /reload-model without a key answered ${answer.status}`);
  },

  async metricsEndpoint(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.http("/metrics").catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    const text = String(answer.body);
    return answer.status === 200 && text.includes("mlops_predictions_total") && text.includes("process_resident_memory_bytes")
      ? pass("GET /metrics serves Prometheus metrics (predictions, latency, prediction log, process memory and CPU)")
      : fail(`GET /metrics answered ${answer.status} without the expected metrics`);
  },

  async resourceUsage(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.http("/metrics").catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    const rss = Number(/mlops_process_resident_memory_bytes (\d+(\.\d+)?(e\+\d+)?)/.exec(String(answer.body))?.[1] ?? NaN);
    if (!Number.isFinite(rss)) return fail("the server's /metrics has no process memory figure");
    const mb = rss / 1024 ** 2;
    return mb < 500
      ? pass(`server resident memory ${mb.toFixed(0)} MB (limit 500 MB)`)
      : fail(`server resident memory ${mb.toFixed(0)} MB, over 500 MB`);
  },

  async apiDocs(ctx: CheckContext): Promise<CheckResult> {
    const answer = await ctx.http("/docs/json").catch((error: Error) => ({ error: error.message }));
    if ("error" in answer) return fail(`no server answers at ${ctx.url}: ${answer.error}`);
    const paths = Object.keys((answer.body as { paths?: object }).paths ?? {});
    return answer.status === 200 && paths.includes("/predict")
      ? pass(`OpenAPI at ${ctx.url}/docs/json (${paths.length} routes), docs page at ${ctx.url}/docs`)
      : fail(`GET /docs/json answered ${answer.status}`);
  },

  async applicationLogs(ctx: CheckContext): Promise<CheckResult> {
    const [row] = await ctx.query<{ n: number; last: Date | null }>("SELECT count(*)::int AS n, max(created_at) AS last FROM predictions");
    return pass(
      `the prediction log holds ${row!.n} rows${row!.last ? ` (newest ${row!.last.toISOString()})` : ""}; the server writes its own messages to stderr and metrics to /metrics`,
    );
  },

  async smokeTest(ctx: CheckContext): Promise<CheckResult> {
    const results = await Promise.all([serverChecks.health200(ctx), serverChecks.predictAccepts(ctx), serverChecks.modelInfo(ctx)]);
    const failed = results.filter((r) => !r.ok);
    return failed.length === 0 ? pass("GET /health, POST /predict and GET /model-info all answer") : fail(failed.map((r) => r.evidence).join("; "));
  },

  async endToEnd(ctx: CheckContext): Promise<CheckResult> {
    const results = await Promise.all([serverChecks.healthVersion(ctx), serverChecks.predictProbabilities(ctx), serverChecks.predictionsLogged(ctx)]);
    const failed = results.filter((r) => !r.ok);
    return failed.length === 0
      ? pass("the active version answers a real row with a probability, and the prediction is logged")
      : fail(failed.map((r) => r.evidence).join("; "));
  },
};
