import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { transformRow } from "../../model/preprocess.js";
import { inputsOf, nonFiniteInputs, parseInstances, requestIdError, sentFeaturesText, type FieldError } from "../instances.js";
import { servedConfig } from "../served-schema.js";
import type { ServingModel } from "../serving-model.js";
import { uuidv7 } from "../uuid7.js";

export interface Prediction {
  prediction_id: string;
  probability: number;
  label: string | number | boolean;
  model_version: string;
}

/**
 * Scores validated rows with the in-memory forward pass and queues each for the prediction log.
 * Shared by /predict and the Open Inference Protocol route. Rows whose inputs the network
 * cannot take (a standardised value beyond float32) are refused before anything is logged.
 */
export function scoreRows(
  context: ServerContext,
  model: ServingModel,
  rows: Array<Record<string, unknown>>,
  requestId: string | null,
  started: number,
  sentFeatures?: string,
): Prediction[] | { errors: FieldError[] } {
  const { label } = context.config;
  const { preprocess } = model.manifest;
  const { forward } = model;
  let probabilities: ArrayLike<number>;
  if (rows.length === 1) {
    // Written straight into the forward pass's input: no array per request.
    transformRow(preprocess, rows[0]!, forward.row);
    const errors = nonFiniteInputs(preprocess, forward.row, 1);
    if (errors) return { errors };
    probabilities = [forward.predictRow()];
  } else {
    const x = inputsOf(preprocess, rows);
    const errors = nonFiniteInputs(preprocess, x, rows.length);
    if (errors) return { errors };
    probabilities = forward.predictBatch(x, rows.length);
  }
  for (let i = 0; i < probabilities.length; i += 1) {
    // Finite inputs can still overflow inside the network (huge values times weights): never
    // answer `probability: null`.
    if (!Number.isFinite(probabilities[i]!)) {
      return {
        errors: [
          { instance: i, field: "(features)", problem: "the model's output is not a number for these values (a value too large in magnitude?)" },
        ],
      };
    }
  }
  const latencyMs = performance.now() - started;
  const createdAt = new Date();
  context.metrics.observeBatchSize(rows.length);
  const predictions = new Array<Prediction>(probabilities.length);
  for (let i = 0; i < probabilities.length; i += 1) {
    const probability = probabilities[i]!;
    const positive = probability >= model.threshold;
    const id = uuidv7(createdAt.getTime());
    context.log?.add({
      id,
      versionId: model.versionId,
      requestId,
      featuresJson: sentFeatures ?? JSON.stringify(rows[i]),
      probability,
      label: positive ? 1 : 0,
      latencyMs,
      createdAt,
    });
    context.metrics.countPrediction(model.version, positive);
    predictions[i] = { prediction_id: id, probability, label: positive ? label.positive : label.negative, model_version: model.version };
  }
  return predictions;
}

const instanceSchema = {
  oneOf: [{ type: "object", additionalProperties: true }, { type: "array" }],
  description: "feature values by name, or an array in schema order",
};

export function registerPredict(app: FastifyInstance, context: ServerContext): void {
  app.post(
    "/predict",
    {
      schema: {
        summary: "Predict one row ({features}) or a batch ({instances})",
        body: {
          type: "object",
          properties: { features: instanceSchema, instances: { type: "array", items: instanceSchema }, request_id: { type: "string" } },
        },
        ...(context.config.serve.requireApiKey ? { security: [{ apiKey: [] }] } : {}),
      },
      // The schema documents the body; parseInstances checks it and names every bad field.
      validatorCompiler: () => () => true,
    },
    // Not async: a synchronous send spares every request a promise and a microtask.
    (request, reply) => {
      const started = performance.now();
      if (context.config.serve.requireApiKey && !context.requireKey(request, reply)) return reply;
      const model = context.holder.current;
      if (!model) return reply.code(503).send({ error: "no model is loaded yet: promote a version (mlops promote) or pass --model" });
      const parsed = parseInstances(request.body, servedConfig(context.config, model), context.config.serve.maxBatch);
      if ("errors" in parsed) return reply.code(400).send({ error: "invalid input", details: parsed.errors });
      const body = request.body as { request_id?: string };
      let requestId = body.request_id ?? null;
      if (requestId === null && typeof request.headers["x-request-id"] === "string") {
        requestId = request.headers["x-request-id"];
        const headerError = requestIdError(requestId, "x-request-id");
        if (headerError) return reply.code(400).send({ error: "invalid input", details: [headerError] });
      }
      const sentFeatures = context.log && !parsed.batch && !parsed.trimmed ? sentFeaturesText(request.rawBody) : undefined;
      const predictions = scoreRows(context, model, parsed.rows, requestId, started, sentFeatures);
      if (!Array.isArray(predictions)) return reply.code(400).send({ error: "invalid input", details: predictions.errors });
      return reply.send(parsed.batch ? { model_version: model.version, predictions } : predictions[0]);
    },
  );
}
