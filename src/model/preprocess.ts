import type { Feature } from "../config/schema.js";
import { isMissingToken } from "../data/values.js";

/**
 * Turns validated feature values into the network's input vector. Fitted on the training split
 * only (so validation and test stay unseen): numerics standardised with the training mean and
 * standard deviation after clipping to the training split's 0.1% and 99.9% quantiles (so one
 * extreme row cannot flatten a feature; the same clip applies when serving and evaluating), a
 * missing numeric imputed with the mean plus an indicator input when the
 * feature is nullable; categoricals one-hot over the schema's values plus one slot for anything
 * else (unknown or missing). The fitted parameters are plain JSON, stored in the manifest.
 */
export interface NumericParams {
  name: string;
  type: "numeric";
  mean: number;
  std: number;
  indicator: boolean;
  /** The training split's 0.1% and 99.9% quantiles; absent in manifests of older versions. */
  clip?: [number, number];
}

export interface CategoricalParams {
  name: string;
  type: "categorical";
  values: string[];
}

export interface PreprocessParams {
  features: Array<NumericParams | CategoricalParams>;
  inputDim: number;
}

/** Raw columns of a data set: numbers (NaN when missing) and category indices (-1 when missing). */
export interface FeatureColumns {
  rows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, Int32Array>;
}

/** A stored or received numeric value as a number; NaN when missing. */
export function numericValue(value: unknown): number {
  // Text that stands for no value ("", "  ", "NA", ...) is missing, as `collect` reads it (Number("  ") is 0).
  if (value === null || value === undefined || (typeof value === "string" && isMissingToken(value.trim()))) return NaN;
  return Number(value);
}

/** The index of a category among the schema's values; -1 when missing or unknown. */
export function categoryIndex(values: readonly string[], value: unknown): number {
  return value === null || value === undefined ? -1 : values.indexOf(String(value).trim());
}

export function fitPreprocess(features: readonly Feature[], columns: FeatureColumns, trainRows: Uint8Array): PreprocessParams {
  let inputDim = 0;
  const params = features.map((feature): NumericParams | CategoricalParams => {
    if (feature.type === "categorical") {
      inputDim += feature.values.length + 1;
      return { name: feature.name, type: "categorical", values: [...feature.values] };
    }
    const values = columns.numeric.get(feature.name)!;
    const clip = trainingQuantiles(values, columns.rows, trainRows);
    let count = 0;
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < columns.rows; i += 1) {
      if (trainRows[i] !== 1 || Number.isNaN(values[i]!)) continue;
      const x = Math.min(Math.max(values[i]!, clip[0]), clip[1]);
      count += 1;
      const delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
    }
    const std = count > 1 ? Math.sqrt(m2 / (count - 1)) : 1;
    const indicator = feature.nullable;
    inputDim += indicator ? 2 : 1;
    return { name: feature.name, type: "numeric", mean: count > 0 ? mean : 0, std: std > 1e-12 ? std : 1, indicator, clip };
  });
  return { features: params, inputDim };
}

/** Share of training values clipped at each end. */
export const CLIP_QUANTILE = 0.001;

/** The CLIP_QUANTILE and 1 - CLIP_QUANTILE quantiles (linear interpolation) of the training values. */
function trainingQuantiles(values: Float64Array, rows: number, trainRows: Uint8Array): [number, number] {
  let n = 0;
  for (let i = 0; i < rows; i += 1) if (trainRows[i] === 1 && !Number.isNaN(values[i]!)) n += 1;
  if (n === 0) return [0, 0];
  const sorted = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < rows; i += 1) if (trainRows[i] === 1 && !Number.isNaN(values[i]!)) sorted[k++] = values[i]!;
  sorted.sort();
  const at = (q: number) => {
    const position = q * (n - 1);
    const low = Math.floor(position);
    const high = Math.min(low + 1, n - 1);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  return [at(CLIP_QUANTILE), at(1 - CLIP_QUANTILE)];
}

/**
 * A present numeric value as the network sees it: clipped, then standardised. The one place
 * both the column path (training, evaluate) and the row path (serve) scale a value.
 */
export function scaleNumeric(feature: NumericParams, x: number): number {
  const clipped = feature.clip ? Math.min(Math.max(x, feature.clip[0]), feature.clip[1]) : x;
  return (clipped - feature.mean) / feature.std;
}

/** Writes the input vectors of all rows into one Float32Array (rows x inputDim). */
export function transformColumns(params: PreprocessParams, columns: FeatureColumns): Float32Array {
  const out = new Float32Array(columns.rows * params.inputDim);
  let offset = 0;
  for (const feature of params.features) {
    if (feature.type === "numeric") {
      const values = columns.numeric.get(feature.name)!;
      for (let r = 0; r < columns.rows; r += 1) {
        const x = values[r]!;
        const base = r * params.inputDim + offset;
        if (Number.isNaN(x)) {
          out[base] = 0;
          if (feature.indicator) out[base + 1] = 1;
        } else out[base] = scaleNumeric(feature, x);
      }
      offset += feature.indicator ? 2 : 1;
    } else {
      const indices = columns.categorical.get(feature.name)!;
      for (let r = 0; r < columns.rows; r += 1) {
        const index = indices[r]!;
        out[r * params.inputDim + offset + (index < 0 ? feature.values.length : index)] = 1;
      }
      offset += feature.values.length + 1;
    }
  }
  return out;
}

/**
 * One row, as the server receives it, into `out` (length inputDim). Accepts numbers or numeric
 * strings and category names; the caller has validated the row.
 */
export function transformRow(params: PreprocessParams, row: Record<string, unknown>, out: Float32Array): Float32Array {
  out.fill(0);
  let offset = 0;
  for (const feature of params.features) {
    const value = row[feature.name];
    if (feature.type === "numeric") {
      const x = numericValue(value);
      if (Number.isNaN(x)) {
        if (feature.indicator) out[offset + 1] = 1;
      } else out[offset] = scaleNumeric(feature, x);
      offset += feature.indicator ? 2 : 1;
    } else {
      const index = categoryIndex(feature.values, value);
      out[offset + (index < 0 ? feature.values.length : index)] = 1;
      offset += feature.values.length + 1;
    }
  }
  return out;
}
