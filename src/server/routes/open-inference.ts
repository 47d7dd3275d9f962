import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { parseInstances, requestIdError } from "../instances.js";
import { servedConfig, servedFeatures } from "../served-schema.js";
import { scoreRows } from "./predict.js";

/** The inference request of the Open Inference Protocol v2 (KServe's REST predict protocol). */
const INFER_REQUEST = {
  type: "object",
  required: ["inputs"],
  properties: {
    id: { type: "string", description: "echoed in the answer and stored as the request id" },
    parameters: { type: "object" },
    inputs: {
      type: "array",
      minItems: 1,
      description: "one tensor per feature (shape [n] or [n, 1]) or one [n, features] tensor in schema order",
      items: {
        type: "object",
        required: ["name", "shape", "datatype", "data"],
        properties: {
          name: { type: "string" },
          shape: { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1, description: "must agree with the number of values in data" },
          datatype: {
            type: "string",
            enum: ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"],
          },
          parameters: { type: "object" },
          data: { type: "array", description: "row-major values, flat or nested" },
        },
      },
    },
    outputs: {
      type: "array",
      description: "the outputs wanted (default: all)",
      items: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string", enum: ["probability", "label"] }, parameters: { type: "object" } },
      },
    },
  },
} as const;

/** The model's name on the Open Inference Protocol routes. */
const OIP_MODEL_NAME = "mlops";

interface InferInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/**
 * Open Inference Protocol v2 (KServe, Triton clients). Inputs come either as one tensor per
 * feature (name = feature, shape [n]) or as one tensor of shape [n, features] in schema order
 * (BYTES when it holds categories). Outputs: `probability` (FP32) and `label` (INT32, 0/1).
 */
export function registerOpenInference(app: FastifyInstance, context: ServerContext): void {
  // The served version's features (see servedConfig): they follow promotions.
  const featuresOf = () => servedFeatures(context.config, context.holder.current);
  const unknownModel = (name: string) => ({ error: `unknown model "${name}"; this server serves "${OIP_MODEL_NAME}"` });

  app.get("/v2/health/live", { schema: { summary: "OIP v2: live" } }, async () => ({ live: true }));
  app.get("/v2/health/ready", { schema: { summary: "OIP v2: ready (a model is loaded)" } }, async (_request, reply) =>
    reply.code(context.holder.current ? 200 : 503).send({ ready: context.holder.current !== undefined }),
  );
  app.get("/v2", { schema: { summary: "OIP v2: server metadata" } }, async () => ({ name: "mlops", version: "2", extensions: [] }));

  app.get<{ Params: { name: string } }>("/v2/models/:name", { schema: { summary: "OIP v2: model metadata" } }, async (request, reply) => {
    if (request.params.name !== OIP_MODEL_NAME) return reply.code(404).send(unknownModel(request.params.name));
    return {
      name: OIP_MODEL_NAME,
      versions: context.holder.current ? [context.holder.current.version] : [],
      platform: "mlops",
      inputs: featuresOf().map((f) => ({ name: f.name, datatype: f.type === "numeric" ? "FP32" : "BYTES", shape: [-1] })),
      outputs: [
        { name: "probability", datatype: "FP32", shape: [-1] },
        { name: "label", datatype: "INT32", shape: [-1] },
      ],
    };
  });

  app.get<{ Params: { name: string } }>("/v2/models/:name/ready", { schema: { summary: "OIP v2: model ready" } }, async (request, reply) => {
    if (request.params.name !== OIP_MODEL_NAME) return reply.code(404).send(unknownModel(request.params.name));
    return reply.code(context.holder.current ? 200 : 503).send({ name: OIP_MODEL_NAME, ready: context.holder.current !== undefined });
  });

  app.post<{ Params: { name: string }; Body: { id?: unknown; inputs?: InferInput[]; outputs?: unknown } }>(
    "/v2/models/:name/infer",
    {
      schema: { summary: "OIP v2: inference", body: INFER_REQUEST },
      // The schema documents the body; the handler checks it and names what is wrong, with the
      // protocol's {"error": ...} body (a compiled validator would coerce an `id` of 5 to "5").
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const started = performance.now();
      if (request.params.name !== OIP_MODEL_NAME) return reply.code(404).send(unknownModel(request.params.name));
      if (context.config.serve.requireApiKey && !context.requireKey(request, reply)) return reply;
      const model = context.holder.current;
      if (!model) return reply.code(503).send({ error: "no model is loaded" });
      const body = request.body !== null && typeof request.body === "object" && !Array.isArray(request.body) ? request.body : {};
      const idError = requestIdError(body.id, "id");
      if (idError) return reply.code(400).send({ error: "invalid input", details: [idError] });
      const id = (body.id as string | null | undefined) ?? null; // a string or nothing, checked above
      const wanted = requestedOutputs(body.outputs);
      if (typeof wanted === "string") return reply.code(400).send({ error: wanted });
      const config = servedConfig(context.config, model);
      const rows = rowsFromTensors(
        body.inputs,
        config.features.map((f) => f.name),
      );
      if (typeof rows === "string") return reply.code(400).send({ error: rows });
      const parsed = parseInstances({ instances: rows }, config, context.config.serve.maxBatch);
      if ("errors" in parsed) return reply.code(400).send({ error: "invalid input", details: parsed.errors });
      const predictions = scoreRows(context, model, parsed.rows, id, started);
      if (!Array.isArray(predictions)) return reply.code(400).send({ error: "invalid input", details: predictions.errors });
      const outputs = {
        probability: { name: "probability", datatype: "FP32", shape: [predictions.length], data: predictions.map((p) => p.probability) },
        label: {
          name: "label",
          datatype: "INT32",
          shape: [predictions.length],
          data: predictions.map((p) => (p.probability >= model.threshold ? 1 : 0)),
        },
      };
      return {
        model_name: OIP_MODEL_NAME,
        model_version: model.version,
        id: id ?? randomUUID(),
        outputs: wanted.map((name) => outputs[name]),
        parameters: { prediction_ids: predictions.map((p) => p.prediction_id) },
      };
    },
  );
}

type OutputName = "probability" | "label";
const OUTPUT_NAMES: readonly OutputName[] = ["probability", "label"];

/** The outputs a request asks for (`outputs: [{name}]`), in its order; all of them when absent. */
function requestedOutputs(outputs: unknown): OutputName[] | string {
  if (outputs === undefined || outputs === null) return [...OUTPUT_NAMES];
  if (!Array.isArray(outputs) || outputs.length === 0) return '"outputs" must be a non-empty array of {"name": ...}';
  const names: OutputName[] = [];
  for (const output of outputs) {
    const name = (output as { name?: unknown } | null)?.name;
    if (!OUTPUT_NAMES.includes(name as OutputName))
      return `unknown output ${JSON.stringify(name ?? null)}; this model has: ${OUTPUT_NAMES.join(", ")}`;
    if (!names.includes(name as OutputName)) names.push(name as OutputName);
  }
  return names;
}

/** The number of values a shape declares, or a message when it is not a list of non-negative integers. */
function shapeSize(input: InferInput): number | string {
  let size = 1;
  for (const dim of input.shape) {
    if (!Number.isInteger(dim) || (dim as number) < 0)
      return `input "${input.name}": shape must hold non-negative integers, got ${JSON.stringify(input.shape)}`;
    size *= dim;
  }
  return size;
}

/** Rows from OIP input tensors, or a message naming what is wrong. */
function rowsFromTensors(inputs: InferInput[] | undefined, names: string[]): Array<Record<string, unknown>> | string {
  if (!Array.isArray(inputs) || inputs.length === 0) return 'expected "inputs": a non-empty array of tensors';
  const flat = new Map<InferInput, unknown[]>();
  for (const input of inputs) {
    if (
      !input ||
      typeof input.name !== "string" ||
      typeof input.datatype !== "string" ||
      !Array.isArray(input.shape) ||
      input.shape.length === 0 ||
      !Array.isArray(input.data)
    ) {
      return "each input needs name, shape (a non-empty array), datatype and data";
    }
    if (!INFER_REQUEST.properties.inputs.items.properties.datatype.enum.includes(input.datatype as "FP32")) {
      return `input "${input.name}": unknown datatype ${JSON.stringify(input.datatype)} (one of ${INFER_REQUEST.properties.inputs.items.properties.datatype.enum.join(", ")})`;
    }
    // Row-major nested data is allowed by the protocol; the body's nesting is already bounded.
    const data = input.data.flat(Infinity);
    const size = shapeSize(input);
    if (typeof size === "string") return size;
    if (size !== data.length) return `input "${input.name}": shape ${JSON.stringify(input.shape)} declares ${size} values, data holds ${data.length}`;
    flat.set(input, data);
  }
  if (inputs.length === 1 && inputs[0]!.shape.length === 2) {
    const [rows, columns] = inputs[0]!.shape as [number, number];
    const data = flat.get(inputs[0]!)!;
    if (columns !== names.length) return `a 2-D input must have shape [n, ${names.length}] (one column per feature, in schema order)`;
    return Array.from({ length: rows }, (_, r) => Object.fromEntries(names.map((name, c) => [name, data[r * columns + c]])));
  }
  const byName = new Map(inputs.map((input) => [input.name, flat.get(input)!]));
  const unknown = [...byName.keys()].filter((name) => !names.includes(name));
  if (unknown.length > 0) return `unknown inputs: ${unknown.join(", ")} (expected one per feature: ${names.join(", ")})`;
  const bad = inputs.find((input) => input.shape[0] !== flat.get(input)!.length);
  if (bad) return `input "${bad.name}": one value per row expected, shape [n] or [n, 1], got ${JSON.stringify(bad.shape)}`;
  const length = flat.get(inputs[0]!)!.length;
  if (inputs.some((input) => flat.get(input)!.length !== length)) return "all inputs must hold the same number of values";
  return Array.from({ length }, (_, r) => Object.fromEntries(names.map((name) => [name, byName.get(name)?.[r]])));
}
