import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { MlopsConfig } from "../config/schema.js";
import { TOOLKIT_VERSION } from "../package-root.js";
import { createMetrics, type ServerMetrics } from "./metrics.js";
import type { ReportData } from "../report/types.js";
import { registerDashboard } from "./routes/dashboard.js";
import { registerOpenInference } from "./routes/open-inference.js";
import { registerPredict } from "./routes/predict.js";
import type { PredictionLogWriter } from "./prediction-log.js";
import type { ServingModel } from "./serving-model.js";

declare module "fastify" {
  interface FastifyRequest {
    /** A JSON request's body as received (the prediction log stores features as sent). */
    rawBody: string | undefined;
  }
}

export interface AppOptions {
  config: MlopsConfig;
  /** Loads the version to serve (the active one, or the pinned one). */
  loadModel: () => Promise<ServingModel>;
  /** The prediction log; absent with --no-log-predictions. */
  log?: PredictionLogWriter;
  /** Whether the database answers (for /health). */
  databaseUp: () => Promise<boolean>;
  /** MLOPS_API_KEY: required for /reload-model, and for /predict when serve.requireApiKey. */
  apiKey?: string;
  bodyLimit?: number;
  /** Reads the report's data for GET /dashboard (its own connection); absent, there is no dashboard. */
  dashboard?: () => Promise<ReportData>;
}

/** The one mutable piece of the server: replaced whole on reload, so requests never see half a swap. */
export interface ModelHolder {
  current: ServingModel | undefined;
}

export interface ServerContext extends AppOptions {
  holder: ModelHolder;
  metrics: ServerMetrics;
  startedAt: number;
  requireKey: (request: FastifyRequest, reply: FastifyReply) => boolean;
}

/**
 * Builds the prediction server without listening, so tests drive it with `inject`. The model is
 * loaded by `reload()` (at start, on POST /reload-model, and on promotion notices).
 */
export async function buildApp(options: AppOptions): Promise<{ app: FastifyInstance; holder: ModelHolder; reload: () => Promise<{ previous: string | null; current: string }> }> {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 1024 * 1024, return503OnClosing: true });
  // JSON only: anything else is 415 Unsupported Media Type rather than a confusing 400.
  app.removeContentTypeParser("text/plain");
  // Fastify's own JSON parser (with its prototype-poisoning checks), keeping the text as well:
  // the prediction log stores features as the client sent them (sentFeaturesText).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.decorateRequest("rawBody", undefined);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    request.rawBody = body as string;
    parseJson(request, body as string, done);
  });
  const holder: ModelHolder = { current: undefined };
  const metrics = createMetrics(() => options.log, () => holder.current?.version);
  const expectedKey = options.apiKey ? createHash("sha256").update(options.apiKey).digest() : undefined;

  const context: ServerContext = {
    ...options,
    holder,
    metrics,
    startedAt: Date.now(),
    requireKey(request, reply) {
      const header = request.headers["x-api-key"] ?? request.headers.authorization?.replace(/^Bearer\s+/i, "");
      const given = typeof header === "string" ? createHash("sha256").update(header).digest() : undefined;
      // Equal-length digests compared in constant time: the key never leaks through timing.
      if (expectedKey && given && timingSafeEqual(expectedKey, given)) return true;
      void reply
        .code(expectedKey ? 401 : 403)
        .send({ error: expectedKey ? "missing or wrong API key (X-API-Key header)" : "MLOPS_API_KEY is not set on the server, so this endpoint is disabled" });
      return false;
    },
  };

  const reload = async () => {
    const previous = holder.current?.version ?? null;
    try {
      holder.current = await options.loadModel();
      metrics.reloads.inc({ result: "ok" });
      return { previous, current: holder.current.version };
    } catch (error) {
      metrics.reloads.inc({ result: "error" });
      throw error;
    }
  };

  await app.register(import("@fastify/swagger"), {
    openapi: {
      info: { title: "mlops prediction server", version: TOOLKIT_VERSION, description: "Predictions from the active model version; every prediction is logged. The live report of the project: [/dashboard](/dashboard)." },
      components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-Key" } } },
    },
  });
  await app.register(import("@fastify/swagger-ui"), { routePrefix: "/docs" });

  app.addHook("onResponse", (request, reply, done) => {
    metrics.observeLatency(request.routeOptions.url ?? "unknown", reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    const methods = ["GET", "POST", "PUT", "DELETE", "PATCH"].filter((method) => app.hasRoute({ method: method as "GET", url: request.url.split("?")[0]! }));
    if (methods.length > 0) return reply.code(405).header("allow", methods.join(", ")).send({ error: `${request.method} is not allowed here; use ${methods.join(" or ")}` });
    return reply.code(404).send({ error: `no route ${request.method} ${request.url}` });
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    // Fastify's own client errors (bad JSON 400, body too large 413, wrong content type 415).
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    void reply.code(status).send({ error: status === 500 ? "internal error" : error.message });
  });

  app.get("/health", { schema: { summary: "Liveness and readiness: model loaded, database up" } }, async (_request, reply) => {
    const database = (await options.databaseUp()) ? "up" : "down";
    const model = holder.current;
    const logDown = options.log ? !options.log.snapshot().databaseUp : false;
    const status = !model ? "unavailable" : database === "down" || logDown ? "degraded" : "ok";
    return reply.code(model ? 200 : 503).send({
      status,
      model_loaded: model !== undefined,
      model_version: model?.version ?? null,
      database,
      uptime_s: Math.round((Date.now() - context.startedAt) / 1000),
    });
  });

  app.get("/model-info", { schema: { summary: "The served version: metrics, threshold, schema, training data, backend" } }, async (_request, reply) => {
    const model = holder.current;
    if (!model) return reply.code(503).send({ error: "no model is loaded" });
    const m = model.manifest;
    return {
      version: model.version,
      created: m.createdAt,
      loaded_at: model.loadedAt,
      threshold: model.threshold,
      metrics: m.metrics,
      feature_schema: m.featureSchema,
      label: m.label,
      training_data: m.dataFingerprint,
      backend: m.backend,
      hyperparameters: m.hyperparameters,
      toolkit_version: m.toolkitVersion,
    };
  });

  app.post("/reload-model", { schema: { summary: "Reload the active version from the database (API key)", security: [{ apiKey: [] }] } }, async (request, reply) => {
    if (!context.requireKey(request, reply)) return reply;
    try {
      const result = await reload();
      return { previous_version: result.previous, model_version: result.current };
    } catch (error) {
      return reply.code(409).send({ error: `reload failed, still serving ${holder.current?.version ?? "nothing"}: ${(error as Error).message}` });
    }
  });

  app.get("/metrics", { schema: { summary: "Prometheus metrics" } }, async (_request, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  registerPredict(app, context);
  registerOpenInference(app, context);
  if (options.dashboard) registerDashboard(app, context, options.dashboard);
  return { app, holder, reload };
}
