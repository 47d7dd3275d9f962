import type { MlopsConfig } from "../config/schema.js";
import { instanceArraySchema, instanceSchema, predictRequestSchema } from "./openapi-request.js";
import { servedFeatures } from "./served-schema.js";
import { operationResponses, responseSchemas } from "./openapi-responses.js";
import type { ServingModel } from "./serving-model.js";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked by path and method names, not a typed model
type Document = Record<string, any>;

/** The document's title: the project's name (its folder, when known) and the version it serves. */
export function servedTitle(model: ServingModel | undefined, projectName?: string): string {
  return `${projectName ? `${projectName}: ` : ""}mlops prediction server, ${model ? `version ${model.version}` : "no model loaded"}`;
}

const SECURITY = [{ apiKey: [] }, { bearer: [] }];

/**
 * The OpenAPI document of the served version: what @fastify/swagger gathered from the routes,
 * with /predict's body built from the version's feature schema and training profile, and every
 * answer described. Kept per loaded model (a WeakMap), so after a promotion the next request
 * for /docs/json builds the new version's document once, and the old one goes with its model.
 */
export function servedDocumentBuilder(config: MlopsConfig, projectName?: string) {
  const cache = new WeakMap<ServingModel, Document>();
  let withoutModel: Document | undefined;
  return (base: Document, model: ServingModel | undefined): Document => {
    const cached = model ? cache.get(model) : withoutModel;
    if (cached) return cached;
    const document = buildDocument(base, config, model, projectName);
    if (model) cache.set(model, document);
    else withoutModel = document;
    return document;
  };
}

function buildDocument(base: Document, config: MlopsConfig, model: ServingModel | undefined, projectName?: string): Document {
  const document: Document = structuredClone(base);
  const features = servedFeatures(config, model);
  document.info = { ...document.info, title: servedTitle(model, projectName) };
  document.components = {
    ...document.components,
    securitySchemes: {
      apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      bearer: { type: "http", scheme: "bearer", description: "the same key as Authorization: Bearer <key>" },
    },
    schemas: {
      ...document.components?.schemas,
      ...responseSchemas(config),
      PredictInstance: instanceSchema(config, features),
      PredictInstanceArray: instanceArraySchema(features),
    },
  };
  const keyed = { predict: config.serve.requireApiKey };
  for (const [key, responses] of Object.entries(operationResponses(keyed))) {
    const [method, path] = key.split(" ") as [string, string];
    const operation = document.paths?.[path]?.[method];
    if (!operation) continue;
    operation.responses = responses;
    if ("401" in responses) operation.security = SECURITY;
    else delete operation.security;
  }
  const predict = document.paths?.["/predict"]?.post;
  if (predict) {
    predict.requestBody = { required: true, content: { "application/json": { schema: predictRequestSchema(config, model) } } };
  }
  return document;
}
