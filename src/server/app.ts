import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { AppOptions, ModelHolder, ServerContext } from "./context.js";
import { TOOLKIT_VERSION } from "../package-root.js";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "./json-depth.js";
import { createMetrics } from "./metrics.js";
import { registerDashboard } from "./routes/dashboard.js";
import { registerOpenInference } from "./routes/open-inference.js";
import { registerPredict } from "./routes/predict.js";
import { servedDocumentBuilder, servedTitle } from "./openapi.js";

declare module "fastify" {
  interface FastifyRequest {
    /** A JSON request's body as received (the prediction log stores features as sent). */
    rawBody: string | undefined;
  }
}

const BEARER = /^Bearer\s+(\S.*)$/i;

const escapeHtml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Builds the prediction server without listening, so tests drive it with `inject`. The model is
 * loaded by `reload()` (at start, on POST /reload-model, and on promotion notices).
 */
export async function buildApp(
  options: AppOptions,
): Promise<{ app: FastifyInstance; holder: ModelHolder; reload: () => Promise<{ previous: string | null; current: string }> }> {
  const limits = options.config.serve;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    // Slow clients: a request must arrive whole within requestTimeoutMs (headers within
    // headersTimeoutMs), a silent connection is closed after idleTimeoutMs, and Node checks the
    // first two every second (its default, 30 s, would let a slow client linger that much longer).
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: Math.min(5000, limits.idleTimeoutMs),
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs),
    },
  });
  // Connections past the cap are closed at once by Node, so they cannot use up file descriptors.
  app.server.maxConnections = limits.maxConnections;
  // Route patterns by method, so a wrong method on a parameterised route (GET
  // /v2/models/mlops/infer) is a 405 too, not a 404.
  const routePatterns: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook("onRoute", (route) => {
    const pattern = new RegExp(
      `^${route.url
        .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
        .replace(/:[^/]+/g, "[^/]+")
        .replace(/\*/g, ".*")}$`,
    );
    for (const method of [route.method].flat()) routePatterns.push({ method, pattern });
  });
  // JSON only: anything else is 415 Unsupported Media Type rather than a confusing 400.
  app.removeContentTypeParser("text/plain");
  // Fastify's own JSON parser (with its prototype-poisoning checks), keeping the text as well:
  // the prediction log stores features as the client sent them (sentFeaturesText).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.decorateRequest("rawBody", undefined);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    request.rawBody = body as string;
    if (nestedDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(Object.assign(new Error(`the body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  const holder: ModelHolder = { current: undefined };
  const metrics = createMetrics(
    () => options.log,
    () => holder.current?.version,
  );
  const expectedKey = options.apiKey ? createHash("sha256").update(options.apiKey).digest() : undefined;

  const context: ServerContext = {
    ...options,
    holder,
    metrics,
    startedAt: Date.now(),
    requireKey(request, reply) {
      // X-API-Key: <key>, or Authorization: Bearer <key>; a bare Authorization value is not a key.
      const bearer = BEARER.exec(request.headers.authorization ?? "");
      const header = request.headers["x-api-key"] ?? bearer?.[1];
      const given = typeof header === "string" ? createHash("sha256").update(header).digest() : undefined;
      // Equal-length digests compared in constant time: the key never leaks through timing.
      if (expectedKey && given && timingSafeEqual(expectedKey, given)) return true;
      void reply.code(expectedKey ? 401 : 403).send({
        error: expectedKey
          ? "missing or wrong API key (X-API-Key: <key> or Authorization: Bearer <key>)"
          : "MLOPS_API_KEY is not set on the server, so this endpoint is disabled",
      });
      return false;
    },
  };

  const loadOnce = async () => {
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
  // Reloads run one after another: two promotion notices close together started two loads, and the
  // one that read the older active version could finish last and put it back (a replica answered
  // v3, then v2 again, in a loaded test run). In turn, the last reload reads the newest version.
  let queue: Promise<unknown> = Promise.resolve();
  const reload = () => {
    const next = queue.then(loadOnce);
    queue = next.catch(() => undefined);
    return next;
  };

  await app.register(import("@fastify/swagger"), {
    openapi: {
      info: {
        title: "mlops prediction server",
        version: TOOLKIT_VERSION,
        description:
          "Predictions from the active model version; every prediction is logged. The live report of the project: [/dashboard](/dashboard). " +
          "This document describes the version being served and follows promotions. Every error answer has the `Error` body; " +
          "a wrong method on a listed path answers 405 (with `Allow`) and an unknown path 404, both with that body.",
      },
      components: { securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "X-API-Key" } } },
    },
  });
  const servedDocument = servedDocumentBuilder(options.config, options.projectName);
  // In a plugin of their own, so the hook that puts the served version into the page's title
  // runs for the docs routes only, never on /predict.
  await app.register(async (docs) => {
    docs.addHook("onSend", async (request, _reply, payload) =>
      typeof payload === "string" && payload.includes("<title>Swagger UI</title>") && request.method === "GET"
        ? payload.replace("<title>Swagger UI</title>", `<title>${escapeHtml(servedTitle(holder.current, options.projectName))}</title>`)
        : payload,
    );
    await docs.register(import("@fastify/swagger-ui"), {
      routePrefix: "/docs",
      // The document follows the loaded version (built once per version, see servedDocumentBuilder).
      transformSpecificationClone: false,
      transformSpecification: (base) => servedDocument(base as Record<string, unknown>, holder.current),
    });
  });

  app.addHook("onResponse", (request, reply, done) => {
    metrics.observeLatency(request.routeOptions.url ?? "unknown", reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split("?")[0]!;
    const methods = [...new Set(routePatterns.filter((route) => route.method !== "HEAD" && route.pattern.test(url)).map((route) => route.method))];
    if (methods.length > 0)
      return reply
        .code(405)
        .header("allow", methods.join(", "))
        .send({ error: `${request.method} is not allowed here; use ${methods.join(" or ")}` });
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
    // A promotion whose model failed to load leaves this server on the old version while the
    // registry names the new one: serving, but not what the registry says.
    const active = database === "up" && options.activeVersion ? await options.activeVersion() : undefined;
    const mismatch = active !== undefined && active !== (model?.version ?? null);
    const status = !model ? "unavailable" : database === "down" || logDown || mismatch ? "degraded" : "ok";
    return reply.code(model ? 200 : 503).send({
      status,
      model_loaded: model !== undefined,
      model_version: model?.version ?? null,
      ...(active !== undefined ? { active_version: active } : {}),
      ...(mismatch
        ? {
            problem: `the registry's active version is ${active ?? "none"} but this server has ${model?.version ?? "nothing"} loaded (the reload failed: see the server's log, fix the version, then POST /reload-model or promote again)`,
          }
        : {}),
      database,
      uptime_s: Math.round((Date.now() - context.startedAt) / 1000),
    });
  });

  app.get(
    "/model-info",
    { schema: { summary: "The served version: metrics, threshold, schema, training data, backend" } },
    async (_request, reply) => {
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
    },
  );

  app.post(
    "/reload-model",
    { schema: { summary: "Reload the active version from the database (API key)", security: [{ apiKey: [] }] } },
    async (request, reply) => {
      if (!context.requireKey(request, reply)) return reply;
      try {
        const result = await reload();
        return { previous_version: result.previous, model_version: result.current };
      } catch (error) {
        return reply.code(409).send({ error: `reload failed, still serving ${holder.current?.version ?? "nothing"}: ${(error as Error).message}` });
      }
    },
  );

  app.get("/metrics", { schema: { summary: "Prometheus metrics" } }, async (_request, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  registerPredict(app, context);
  registerOpenInference(app, context);
  if (options.dashboard) registerDashboard(app, context, options.dashboard);
  return { app, holder, reload };
}
