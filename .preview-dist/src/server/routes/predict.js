import { transformRow } from "../../model/preprocess.js";
import { inputsOf, parseInstances, sentFeaturesText } from "../instances.js";
import { uuidv7 } from "../uuid7.js";
/**
 * Scores validated rows with the in-memory forward pass and queues each for the prediction log.
 * Shared by /predict and the Open Inference Protocol route.
 */
export function scoreRows(context, model, rows, requestId, started, sentFeatures) {
    const { label } = context.config;
    const { preprocess } = model.manifest;
    const { forward } = model;
    let probabilities;
    if (rows.length === 1) {
        // Written straight into the forward pass's input: no array per request.
        transformRow(preprocess, rows[0], forward.row);
        probabilities = [forward.predictRow()];
    }
    else {
        probabilities = Array.from(forward.predictBatch(inputsOf(preprocess, rows), rows.length));
    }
    const latencyMs = performance.now() - started;
    const createdAt = new Date();
    context.metrics.observeBatchSize(rows.length);
    return probabilities.map((probability, i) => {
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
        return { prediction_id: id, probability, label: positive ? label.positive : label.negative, model_version: model.version };
    });
}
const instanceSchema = {
    oneOf: [{ type: "object", additionalProperties: true }, { type: "array" }],
    description: "feature values by name, or an array in schema order",
};
export function registerPredict(app, context) {
    app.post("/predict", {
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
        if (context.config.serve.requireApiKey && !context.requireKey(request, reply))
            return reply;
        const model = context.holder.current;
        if (!model)
            return reply.code(503).send({ error: "no model is loaded yet: promote a version (mlops promote) or pass --model" });
        const parsed = parseInstances(request.body, context.config, context.config.serve.maxBatch);
        if ("errors" in parsed)
            return reply.code(400).send({ error: "invalid input", details: parsed.errors });
        const body = request.body;
        const requestId = body.request_id ?? (typeof request.headers["x-request-id"] === "string" ? request.headers["x-request-id"] : null);
        const sentFeatures = context.log && !parsed.batch ? sentFeaturesText(request.rawBody) : undefined;
        const predictions = scoreRows(context, model, parsed.rows, requestId, started, sentFeatures);
        return reply.send(parsed.batch ? { model_version: model.version, predictions } : predictions[0]);
    });
}
//# sourceMappingURL=predict.js.map