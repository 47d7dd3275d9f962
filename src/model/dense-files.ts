import { usageError } from "../errors.js";
import type { ModelFiles } from "./artifacts.js";
import type { Activation, DenseLayerWeights } from "./forward.js";

interface LayerSpec {
  class_name: string;
  config: { name?: string; units?: number; activation?: string; use_bias?: boolean };
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

const ACTIVATIONS = new Set<Activation>(["relu", "sigmoid", "linear", "tanh"]);

/**
 * The Dense layers of a saved Sequential model, read from model.json and weights.bin without
 * tfjs (a serve worker then never loads it): the weight specs are consumed in order, each
 * Dense layer taking `<name>/kernel` [inputs, units] and `<name>/bias` [units] as float32.
 * Anything else (another layer type, dtype or shape) is refused with a clear error.
 */
export function denseLayersFromFiles(files: Pick<ModelFiles, "modelJson" | "weights">): DenseLayerWeights[] {
  const topology = files.modelJson.modelTopology as { class_name?: string; config?: { layers?: LayerSpec[] } };
  const specs = files.modelJson.weightsManifest[0]!.weights as WeightSpec[];
  const refuse = (why: string) =>
    usageError("MODEL_UNSUPPORTED", `model.json cannot be served: ${why}.`, "Retrain the version with this mlops (`mlops train`).");
  if (topology?.class_name !== "Sequential" || !Array.isArray(topology.config?.layers)) refuse("it is not a Sequential model");
  const buffer = files.weights;
  let offset = 0;
  let next = 0;
  const take = (name: string, shape: number[]): Float32Array => {
    const spec = specs[next++];
    const layerName = name.slice(0, name.lastIndexOf("/"));
    if (!spec?.name.startsWith(`${layerName}/`) || spec.dtype !== "float32" || spec.shape.join(",") !== shape.join(",")) {
      throw refuse(
        `expected weights ${name} [${shape.join(", ")}] float32, found ${spec ? `${spec.name} [${spec.shape.join(", ")}] ${spec.dtype}` : "none"}`,
      );
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (offset + count * 4 > buffer.length) throw refuse(`weights.bin holds ${buffer.length} bytes, fewer than the weights need`);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = buffer.readFloatLE(offset + i * 4);
    offset += count * 4;
    return values;
  };
  const layers: DenseLayerWeights[] = [];
  let inputs = 0;
  for (const layer of topology.config!.layers!) {
    if (layer.class_name === "InputLayer") {
      const shape = (layer.config as { batch_input_shape?: Array<number | null> }).batch_input_shape;
      inputs = Number(shape?.[1]);
      continue;
    }
    if (layer.class_name === "Dropout") continue;
    if (layer.class_name !== "Dense") throw refuse(`layer ${layer.config.name} is a ${layer.class_name}, not Dense`);
    const { name = "", units = 0, activation = "linear", use_bias: useBias = true } = layer.config;
    if (!ACTIVATIONS.has(activation as Activation)) throw refuse(`layer ${name} uses activation ${activation}`);
    if (!(inputs > 0)) throw refuse("the input width is not recorded");
    const kernel = take(`${name}/kernel`, [inputs, units]);
    const bias = useBias ? take(`${name}/bias`, [units]) : new Float32Array(units);
    layers.push({ kernel, bias, inputs, units, activation: activation as Activation });
    inputs = units;
  }
  if (layers.length === 0) throw refuse("it has no Dense layers");
  if (offset !== buffer.length) throw refuse(`weights.bin holds ${buffer.length - offset} bytes more than the weights`);
  return layers;
}
