import { randomUUID } from "node:crypto";
import { parseInstances, requestIdError } from "../instances.js";
import { scoreRows } from "./predict.js";
/** The model's name on the Open Inference Protocol routes. */
export const OIP_MODEL_NAME = "mlops";
/**
 * Open Inference Protocol v2 (KServe, Triton clients). Inputs come either as one tensor per
 * feature (name = feature, shape [n]) or as one tensor of shape [n, features] in schema order
 * (BYTES when it holds categories). Outputs: `probability` (FP32) and `label` (INT32, 0/1).
 */
export function registerOpenInference(app, context) {
    const features = context.config.features;
    const unknownModel = (name) => ({ error: `unknown model "${name}"; this server serves "${OIP_MODEL_NAME}"` });
    app.get("/v2/health/live", { schema: { summary: "OIP v2: live" } }, async () => ({ live: true }));
    app.get("/v2/health/ready", { schema: { summary: "OIP v2: ready (a model is loaded)" } }, async (_request, reply) => reply.code(context.holder.current ? 200 : 503).send({ ready: context.holder.current !== undefined }));
    app.get("/v2", { schema: { summary: "OIP v2: server metadata" } }, async () => ({ name: "mlops", version: "2", extensions: [] }));
    app.get("/v2/models/:name", { schema: { summary: "OIP v2: model metadata" } }, async (request, reply) => {
        if (request.params.name !== OIP_MODEL_NAME)
            return reply.code(404).send(unknownModel(request.params.name));
        return {
            name: OIP_MODEL_NAME,
            versions: context.holder.current ? [context.holder.current.version] : [],
            platform: "mlops",
            inputs: features.map((f) => ({ name: f.name, datatype: f.type === "numeric" ? "FP32" : "BYTES", shape: [-1] })),
            outputs: [
                { name: "probability", datatype: "FP32", shape: [-1] },
                { name: "label", datatype: "INT32", shape: [-1] },
            ],
        };
    });
    app.get("/v2/models/:name/ready", { schema: { summary: "OIP v2: model ready" } }, async (request, reply) => {
        if (request.params.name !== OIP_MODEL_NAME)
            return reply.code(404).send(unknownModel(request.params.name));
        return reply.code(context.holder.current ? 200 : 503).send({ name: OIP_MODEL_NAME, ready: context.holder.current !== undefined });
    });
    app.post("/v2/models/:name/infer", { schema: { summary: "OIP v2: inference" } }, async (request, reply) => {
        const started = performance.now();
        if (request.params.name !== OIP_MODEL_NAME)
            return reply.code(404).send(unknownModel(request.params.name));
        if (context.config.serve.requireApiKey && !context.requireKey(request, reply))
            return reply;
        const model = context.holder.current;
        if (!model)
            return reply.code(503).send({ error: "no model is loaded" });
        const idError = requestIdError(request.body?.id, "id");
        if (idError)
            return reply.code(400).send({ error: "invalid input", details: [idError] });
        const id = request.body?.id ?? null; // a string or nothing, checked above
        const rows = rowsFromTensors(request.body?.inputs, features.map((f) => f.name));
        if (typeof rows === "string")
            return reply.code(400).send({ error: rows });
        const parsed = parseInstances({ instances: rows }, context.config, context.config.serve.maxBatch);
        if ("errors" in parsed)
            return reply.code(400).send({ error: "invalid input", details: parsed.errors });
        const predictions = scoreRows(context, model, parsed.rows, id, started);
        return {
            model_name: OIP_MODEL_NAME,
            model_version: model.version,
            id: id ?? randomUUID(),
            outputs: [
                { name: "probability", datatype: "FP32", shape: [predictions.length], data: predictions.map((p) => p.probability) },
                { name: "label", datatype: "INT32", shape: [predictions.length], data: predictions.map((p) => (p.probability >= model.threshold ? 1 : 0)) },
            ],
            parameters: { prediction_ids: predictions.map((p) => p.prediction_id) },
        };
    });
}
/** Rows from OIP input tensors, or a message naming what is wrong. */
function rowsFromTensors(inputs, names) {
    if (!Array.isArray(inputs) || inputs.length === 0)
        return 'expected "inputs": a non-empty array of tensors';
    for (const input of inputs) {
        if (!input || typeof input.name !== "string" || !Array.isArray(input.shape) || !Array.isArray(input.data)) {
            return "each input needs name, shape, datatype and data";
        }
    }
    if (inputs.length === 1 && inputs[0].shape.length === 2) {
        const [rows, columns] = inputs[0].shape;
        const data = inputs[0].data.flat();
        if (columns !== names.length || data.length !== rows * columns)
            return `a 2-D input must have shape [n, ${names.length}] with n * ${names.length} values`;
        return Array.from({ length: rows }, (_, r) => Object.fromEntries(names.map((name, c) => [name, data[r * columns + c]])));
    }
    const byName = new Map(inputs.map((input) => [input.name, input.data.flat()]));
    const unknown = [...byName.keys()].filter((name) => !names.includes(name));
    if (unknown.length > 0)
        return `unknown inputs: ${unknown.join(", ")} (expected one per feature: ${names.join(", ")})`;
    const length = inputs[0].data.flat().length;
    if (inputs.some((input) => input.data.flat().length !== length))
        return "all inputs must hold the same number of values";
    return Array.from({ length }, (_, r) => Object.fromEntries(names.map((name) => [name, byName.get(name)?.[r]])));
}
//# sourceMappingURL=open-inference.js.map