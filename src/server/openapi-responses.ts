import type { MlopsConfig } from "../config/schema.js";

type JsonSchema = Record<string, unknown>;
type Responses = Record<string, unknown>;

const json = (schema: JsonSchema, description: string) => ({ description, content: { "application/json": { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullableString = { type: "string", nullable: true };

/** Schemas of the answers, shared by the operations through $ref. */
export function responseSchemas(config: MlopsConfig): Record<string, JsonSchema> {
  const labels = [config.label.positive, config.label.negative];
  return {
    Error: {
      type: "object",
      required: ["error"],
      properties: {
        error: { type: "string", description: "what went wrong and what to do" },
        details: {
          type: "array",
          description: "one entry per bad field (400 on bad input)",
          items: {
            type: "object",
            required: ["instance", "field", "problem"],
            properties: {
              instance: { type: "integer", minimum: 0, description: "the row's index in the batch (0 for one row)" },
              field: { type: "string", description: 'the feature or body key, or "(body)" / "(features)"' },
              problem: { type: "string" },
            },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    Prediction: {
      type: "object",
      required: ["prediction_id", "probability", "label", "model_version"],
      properties: {
        prediction_id: { type: "string", format: "uuid", description: "the logged prediction's id (UUIDv7), for feedback labels" },
        probability: { type: "number", minimum: 0, maximum: 1, description: "probability of the positive label" },
        label: { enum: labels, description: `${JSON.stringify(config.label.positive)} when probability >= the version's threshold` },
        model_version: { type: "string" },
      },
      additionalProperties: false,
    },
    PredictionBatch: {
      type: "object",
      required: ["model_version", "predictions"],
      properties: { model_version: { type: "string" }, predictions: { type: "array", items: ref("Prediction") } },
      additionalProperties: false,
    },
    Health: {
      type: "object",
      required: ["status", "model_loaded", "model_version", "database", "uptime_s"],
      properties: {
        status: { type: "string", enum: ["ok", "degraded", "unavailable"] },
        model_loaded: { type: "boolean" },
        model_version: nullableString,
        active_version: { ...nullableString, description: "the registry's active version, when the server follows it" },
        problem: { type: "string", description: "why the loaded version differs from the active one" },
        database: { type: "string", enum: ["up", "down"] },
        uptime_s: { type: "integer", minimum: 0 },
      },
      additionalProperties: false,
    },
    ModelInfo: {
      type: "object",
      required: ["version", "loaded_at", "threshold", "feature_schema", "label", "backend"],
      properties: {
        version: { type: "string" },
        created: { type: "string", format: "date-time" },
        loaded_at: { type: "string", format: "date-time" },
        threshold: { type: "number" },
        metrics: { type: "object", additionalProperties: true },
        feature_schema: { type: "array", items: { type: "object", additionalProperties: true } },
        label: { type: "object", additionalProperties: true },
        training_data: { type: "object", additionalProperties: true },
        backend: { type: "string" },
        hyperparameters: { type: "object", additionalProperties: true },
        toolkit_version: { type: "string" },
      },
      additionalProperties: false,
    },
    Reload: {
      type: "object",
      required: ["previous_version", "model_version"],
      properties: { previous_version: nullableString, model_version: { type: "string" } },
      additionalProperties: false,
    },
    InferResponse: {
      type: "object",
      required: ["model_name", "model_version", "id", "outputs"],
      properties: {
        model_name: { type: "string" },
        model_version: { type: "string" },
        id: { type: "string" },
        outputs: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "datatype", "shape", "data"],
            properties: {
              name: { type: "string", enum: ["probability", "label"] },
              datatype: { type: "string", enum: ["FP32", "INT32"] },
              shape: { type: "array", items: { type: "integer", minimum: 0 } },
              data: { type: "array", items: { type: "number" } },
            },
            additionalProperties: false,
          },
        },
        parameters: {
          type: "object",
          properties: { prediction_ids: { type: "array", items: { type: "string" } } },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    ModelMetadata: {
      type: "object",
      required: ["name", "versions", "platform", "inputs", "outputs"],
      properties: {
        name: { type: "string" },
        versions: { type: "array", items: { type: "string" } },
        platform: { type: "string" },
        inputs: { type: "array", items: ref("TensorMetadata") },
        outputs: { type: "array", items: ref("TensorMetadata") },
      },
      additionalProperties: false,
    },
    TensorMetadata: {
      type: "object",
      required: ["name", "datatype", "shape"],
      properties: { name: { type: "string" }, datatype: { type: "string" }, shape: { type: "array", items: { type: "integer" } } },
      additionalProperties: false,
    },
  };
}

const ERROR_MEANINGS: Record<string, string> = {
  "400": "bad input: malformed JSON, or each bad field named in details",
  "401": "missing or wrong API key",
  "403": "the endpoint needs MLOPS_API_KEY, which the server does not have",
  "404": "unknown model name",
  "405": "wrong method (the Allow header lists the right ones)",
  "409": "the reload failed; the previous version is still served",
  "413": "body larger than the server's limit",
  "415": "content type other than application/json",
  "500": "internal error",
  "503": "no model loaded, or the server is shutting down",
};

const errors = (...codes: string[]): Responses => Object.fromEntries(codes.map((code) => [code, json(ref("Error"), ERROR_MEANINGS[code]!)]));

/** Answers every route can give: 503 while the server closes, 500 on a fault. */
const ANY = ["500", "503"];
/** Answers of every route with a JSON body: malformed JSON, too large, not JSON. */
const BODY = ["400", "413", "415"];

/**
 * The answers of each operation, by "METHOD path" as @fastify/swagger writes the path. `keyed`:
 * whether the route asks for the API key (then 401 and 403 are possible answers).
 */
export function operationResponses(keyed: { predict: boolean }): Record<string, Responses> {
  const auth = (on: boolean) => (on ? ["401", "403"] : []);
  return {
    "get /health": {
      "200": json(ref("Health"), "a model is loaded (status says whether the database and the registry agree)"),
      "503": json(ref("Health"), "no model is loaded yet"),
      ...errors("500"),
    },
    "post /predict": {
      "200": json({ oneOf: [ref("Prediction"), ref("PredictionBatch")] }, "one prediction for features, a batch for instances"),
      ...errors(...BODY, ...auth(keyed.predict), ...ANY),
    },
    "get /model-info": { "200": json(ref("ModelInfo"), "the served version"), ...errors(...ANY) },
    "post /reload-model": {
      "200": json(ref("Reload"), "the active version is loaded"),
      ...errors(...BODY, ...auth(true), "409", ...ANY),
    },
    "get /metrics": {
      "200": { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } },
      ...errors(...ANY),
    },
    "get /dashboard": {
      "200": { description: "the report page", content: { "text/html": { schema: { type: "string" } } } },
      ...errors(...auth(keyed.predict), "500"),
      "503": { description: "the database could not be read", content: { "text/html": { schema: { type: "string" } } } },
    },
    "get /v2/health/live": { "200": json(boolObject("live"), "the server is live"), ...errors(...ANY) },
    "get /v2/health/ready": {
      "200": json(boolObject("ready"), "a model is loaded"),
      "503": json(boolObject("ready"), "no model is loaded"),
      ...errors("500"),
    },
    "get /v2": {
      "200": json(
        {
          type: "object",
          required: ["name", "version", "extensions"],
          properties: { name: { type: "string" }, version: { type: "string" }, extensions: { type: "array", items: { type: "string" } } },
          additionalProperties: false,
        },
        "server metadata",
      ),
      ...errors(...ANY),
    },
    "get /v2/models/{name}": { "200": json(ref("ModelMetadata"), "model metadata"), ...errors("404", ...ANY) },
    "get /v2/models/{name}/ready": {
      "200": json(boolObject("ready", true), "the model is loaded"),
      "503": json(boolObject("ready", true), "no model is loaded"),
      ...errors("404", "500"),
    },
    "post /v2/models/{name}/infer": {
      "200": json(ref("InferResponse"), "the requested outputs"),
      ...errors(...BODY, "404", ...auth(keyed.predict), ...ANY),
    },
  };
}

function boolObject(key: string, named = false): JsonSchema {
  return {
    type: "object",
    required: named ? ["name", key] : [key],
    properties: { ...(named ? { name: { type: "string" } } : {}), [key]: { type: "boolean" } },
    additionalProperties: false,
  };
}
