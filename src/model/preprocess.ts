import type { Feature } from "../config/schema.js";
import { isMissingToken } from "../data/values.js";
import { treeInput, type TreeInput } from "./boosting.js";

/**
 * Turns validated feature values into the network's input vector. Fitted on the training split
 * only (so validation and test stay unseen): numerics clipped to the training split's 0.1% and
 * 99.9% quantiles (so one extreme row cannot flatten a feature; the same clip applies when
 * serving and evaluating), then standardised with the training mean and standard deviation (one
 * input) and, when fitted with `bins`, also encoded piecewise-linearly over the training
 * quantiles (one more input per bin, see encodeNumeric); a missing numeric is imputed with
 * the mean, plus an indicator input when the feature is nullable; categoricals one-hot over the
 * schema's values plus one slot for anything else (unknown or missing). The fitted parameters
 * are plain JSON, stored in the manifest.
 */
export interface NumericParams {
  name: string;
  type: "numeric";
  mean: number;
  std: number;
  indicator: boolean;
  /** The training split's 0.1% and 99.9% quantiles; absent in manifests of older versions. */
  clip?: [number, number];
  /**
   * Piecewise-linear bin edges, ascending: the clip bounds and the training quantiles between
   * them. Present, the feature's standardised value is followed by edges.length - 1 bin inputs.
   */
  edges?: number[];
}

export interface CategoricalParams {
  name: string;
  type: "categorical";
  values: string[];
}

export interface PreprocessParams {
  features: Array<NumericParams | CategoricalParams>;
  inputDim: number;
  /** Present (small data), the last input is gradient-boosted trees' score of the inputs before it (stack.ts). */
  trees?: TreeInput;
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

/**
 * The piecewise-linear encoding asked for: up to `bins` bins per numeric feature (0: none), and
 * at most `maxBinInputs` bin inputs over all features, so a wide table gets fewer bins each
 * (none below two). Only features of more than two distinct values count towards the budget.
 */
export interface EncodingOptions {
  bins: number;
  maxBinInputs: number;
}

export function fitPreprocess(
  features: readonly Feature[],
  columns: FeatureColumns,
  trainRows: Uint8Array,
  encoding?: EncodingOptions,
): PreprocessParams {
  const fitter = new PreprocessFitter(features, trainRows, encoding);
  fitter.addToQuantiles(columns, 0);
  fitter.finishQuantiles();
  fitter.addToMoments(columns, 0);
  return fitter.params();
}

/**
 * The same fit over columns read chunk by chunk (`chunks()` gives them in row order, each with
 * its first row's index into `trainRows`): two passes, one for the clip quantiles and one for
 * the mean and standard deviation of the clipped values, with memory bounded by the quantiles'
 * tails rather than the rows (with bins, every training value is kept for the bin edges, 8
 * bytes a value: train asks for bins only on small data). The result equals fitPreprocess on all
 * rows at once, bit for bit.
 */
export async function fitPreprocessChunks(
  features: readonly Feature[],
  chunks: () => AsyncIterable<{ start: number; columns: FeatureColumns }>,
  trainRows: Uint8Array,
  encoding?: EncodingOptions,
): Promise<PreprocessParams> {
  const fitter = new PreprocessFitter(features, trainRows, encoding);
  for await (const { start, columns } of chunks()) fitter.addToQuantiles(columns, start);
  fitter.finishQuantiles();
  for await (const { start, columns } of chunks()) fitter.addToMoments(columns, start);
  return fitter.params();
}

/** Share of training values clipped at each end. */
export const CLIP_QUANTILE = 0.001;

class PreprocessFitter {
  private readonly numeric: Array<{
    feature: Feature;
    tails: QuantileTails;
    clip: [number, number];
    count: number;
    mean: number;
    m2: number;
    /** Every present clipped training value, kept only when fitting bins (the first `count`). */
    values: Float64Array | null;
  }>;

  constructor(
    private readonly features: readonly Feature[],
    private readonly trainRows: Uint8Array,
    private readonly encoding: EncodingOptions | undefined,
  ) {
    let fitted = 0;
    for (let i = 0; i < trainRows.length; i += 1) fitted += trainRows[i] === 1 ? 1 : 0;
    const binning = (encoding?.bins ?? 0) >= 2;
    this.numeric = features
      .filter((f) => f.type === "numeric")
      .map((feature) => ({
        feature,
        tails: new QuantileTails(fitted),
        clip: [0, 0],
        count: 0,
        mean: 0,
        m2: 0,
        values: binning ? new Float64Array(fitted) : null,
      }));
  }

  addToQuantiles(columns: FeatureColumns, start: number): void {
    for (const each of this.numeric) {
      const values = columns.numeric.get(each.feature.name)!;
      for (let i = 0; i < columns.rows; i += 1) if (this.trainRows[start + i] === 1 && !Number.isNaN(values[i]!)) each.tails.add(values[i]!);
    }
  }

  finishQuantiles(): void {
    for (const each of this.numeric) each.clip = each.tails.clip();
  }

  /** Welford's running mean and variance of the clipped values, in row order (so chunking changes nothing). */
  addToMoments(columns: FeatureColumns, start: number): void {
    for (const each of this.numeric) {
      const values = columns.numeric.get(each.feature.name)!;
      const [low, high] = each.clip;
      for (let i = 0; i < columns.rows; i += 1) {
        if (this.trainRows[start + i] !== 1 || Number.isNaN(values[i]!)) continue;
        const x = Math.min(Math.max(values[i]!, low), high);
        if (each.values) each.values[each.count] = x;
        each.count += 1;
        const delta = x - each.mean;
        each.mean += delta / each.count;
        each.m2 += delta * (x - each.mean);
      }
    }
  }

  params(): PreprocessParams {
    let inputDim = 0;
    const fitted = new Map(this.numeric.map((each) => [each.feature.name, each]));
    // The budget is shared by the features bins can help: more than two distinct values.
    const sorted = new Map(this.numeric.map((each) => [each.feature.name, each.values?.subarray(0, each.count).sort() ?? null]));
    const binnable = [...sorted.values()].filter((values) => values && distinctAtLeast(values, 3)).length;
    const bins = binnable > 0 ? Math.min(this.encoding?.bins ?? 0, Math.floor((this.encoding?.maxBinInputs ?? 0) / binnable)) : 0;
    const params = this.features.map((feature): NumericParams | CategoricalParams => {
      if (feature.type === "categorical") {
        inputDim += feature.values.length + 1;
        return { name: feature.name, type: "categorical", values: [...feature.values] };
      }
      const { count, mean, m2, clip } = fitted.get(feature.name)!;
      const values = sorted.get(feature.name);
      const std = count > 1 ? Math.sqrt(m2 / (count - 1)) : 1;
      const indicator = feature.nullable;
      const edges = values && bins >= 2 ? binEdges(values, bins) : null;
      const numeric: NumericParams = { name: feature.name, type: "numeric", mean: count > 0 ? mean : 0, std: std > 1e-12 ? std : 1, indicator, clip };
      if (edges) numeric.edges = edges;
      inputDim += numericWidth(numeric) + (indicator ? 1 : 0);
      return numeric;
    });
    return { features: params, inputDim };
  }
}

/** The q-quantile of n ascending values read through `sortedAt`, interpolated between neighbours (numpy's default). */
function interpolatedQuantile(n: number, sortedAt: (i: number) => number, q: number): number {
  const position = q * (n - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  return sortedAt(lower) + (sortedAt(upper) - sortedAt(lower)) * (position - lower);
}

/** Whether sorted values hold at least `n` distinct ones. */
function distinctAtLeast(sorted: Float64Array, n: number): boolean {
  let distinct = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length && distinct < n; i += 1) if (sorted[i] !== sorted[i - 1]) distinct += 1;
  return distinct >= n;
}

/**
 * Edges of `bins` equal-frequency bins over the (clipped) training values, ascending: their 0,
 * 1/bins, ..., 1 quantiles (interpolated, as numpy's default), ties merged. Null for a feature of
 * at most two distinct values (a flag or a constant), which is standardised alone: a 0/1 value
 * gains nothing from bins.
 */
export function binEdges(sorted: Float64Array, bins: number): number[] | null {
  if (!distinctAtLeast(sorted, 3)) return null;
  const edges: number[] = [];
  for (let b = 0; b <= bins; b += 1) {
    const edge = interpolatedQuantile(sorted.length, (i) => sorted[i]!, b / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges.length >= 3 ? edges : null;
}

/** Numeric features given bins, and the most bins one got (0 and 0 without bins). */
export function binnedFeatures(params: PreprocessParams): { features: number; maxBins: number } {
  const bins = params.features.map((f) => (f.type === "numeric" && f.edges ? f.edges.length - 1 : 0)).filter((b) => b > 0);
  return { features: bins.length, maxBins: Math.max(0, ...bins) };
}

/** Inputs a numeric feature takes, besides its missing-value indicator: its standardised value, then one per bin. */
export function numericWidth(feature: NumericParams): number {
  return feature.edges ? feature.edges.length : 1;
}

/**
 * The CLIP_QUANTILE and 1 - CLIP_QUANTILE quantiles (linear interpolation between the sorted
 * values around each) of values seen one at a time, exactly, in bounded memory: both quantiles
 * only read sorted positions within floor(CLIP_QUANTILE * n) + 2 of either end, so the lowest and
 * highest `keep` values suffice, `keep` sized from an upper bound of n (the rows fitted on).
 * Five million rows keep about 5,000 values per end and feature, where sorting them all would
 * hold 40 MB per feature.
 */
export class QuantileTails {
  private readonly keep: number;
  private readonly lowest: ExtremeValues;
  private readonly highest: ExtremeValues;
  private n = 0;

  constructor(maxValues: number) {
    this.keep = Math.floor(CLIP_QUANTILE * maxValues) + 4;
    this.lowest = new ExtremeValues(this.keep);
    this.highest = new ExtremeValues(this.keep);
  }

  add(x: number): void {
    this.n += 1;
    this.lowest.add(x);
    this.highest.add(-x);
  }

  clip(): [number, number] {
    const n = this.n;
    if (n === 0) return [0, 0];
    const low = this.lowest.sorted();
    const high = this.highest.sorted(); // negated, so ascending here is descending in value
    const sortedAt = (i: number) => {
      if (i < low.length) return low[i]!;
      const fromTop = n - 1 - i;
      if (fromTop < high.length) return -high[fromTop]!;
      throw new Error(`Quantile position ${i} of ${n} lies outside the ${this.keep} values kept at each end.`);
    };
    return [interpolatedQuantile(n, sortedAt, CLIP_QUANTILE), interpolatedQuantile(n, sortedAt, 1 - CLIP_QUANTILE)];
  }
}

/** The `keep` lowest of the values added: a buffer sorted and cut back to `keep` whenever it fills. */
class ExtremeValues {
  private readonly values: Float64Array;
  private size = 0;
  private cutoff = Number.POSITIVE_INFINITY;
  private full = false;

  constructor(private readonly keep: number) {
    this.values = new Float64Array(keep + Math.max(keep, 4096));
  }

  add(x: number): void {
    // Once cut back, a value at or above the keep-th lowest cannot change the lowest `keep`.
    if (this.full && x >= this.cutoff) return;
    this.values[this.size++] = x;
    if (this.size === this.values.length) this.cutBack();
  }

  private cutBack(): void {
    this.values.subarray(0, this.size).sort();
    this.size = Math.min(this.size, this.keep);
    this.cutoff = this.values[this.size - 1]!;
    this.full = true;
  }

  sorted(): Float64Array {
    const out = this.values.slice(0, this.size).sort();
    return out.subarray(0, Math.min(out.length, this.keep));
  }
}

/**
 * A present numeric value as the network sees it: clipped, then standardised. The one place
 * both the column path (training, evaluate) and the row path (serve) scale a value.
 */
export function scaleNumeric(feature: NumericParams, x: number): number {
  const clipped = feature.clip ? Math.min(Math.max(x, feature.clip[0]), feature.clip[1]) : x;
  return (clipped - feature.mean) / feature.std;
}

/**
 * Writes a numeric value's inputs at out[at..]: its standardised value and, with bin edges
 * e0 < e1 < ... < eT, its piecewise-linear encoding (Gorishniy et al., "On Embeddings for
 * Numerical Features in Tabular Deep Learning", 2022): bin input t is 1 for bins wholly below
 * the value, the value's position within its own bin, and 0 above, so the bin inputs sum to the
 * bin the value falls in plus its place there. The network's first layer then reads any shape
 * of response along the feature (a season from a month number, a band of a measurement) as
 * easily as a slope, where a standardised input leaves it to build one from ReLU kinks on a few
 * hundred rows. The outer edges are the clip bounds, so every bin input lies in [0, 1]. A
 * missing value (NaN) is imputed with the training mean: standardised 0, and the mean's bins.
 */
export function encodeNumeric(feature: NumericParams, x: number, out: Float32Array, at: number): void {
  const value = Number.isNaN(x) ? feature.mean : x;
  const edges = feature.edges;
  out[at] = Number.isNaN(x) ? 0 : scaleNumeric(feature, value);
  if (!edges) return;
  for (let t = 1; t < edges.length; t += 1) {
    const low = edges[t - 1]!;
    const high = edges[t]!;
    out[at + t] = value <= low ? 0 : value >= high ? 1 : (value - low) / (high - low);
  }
}

/**
 * Writes the input vectors of all rows into one Float32Array (rows x inputDim), or into `out`
 * (zero-filled) from row `firstRow` on, so chunks of rows fill one array.
 */
export function transformColumns(
  params: PreprocessParams,
  columns: FeatureColumns,
  out = new Float32Array(columns.rows * params.inputDim),
  firstRow = 0,
): Float32Array {
  const target = firstRow > 0 ? out.subarray(firstRow * params.inputDim) : out;
  let offset = 0;
  for (const feature of params.features) {
    if (feature.type === "numeric") {
      const values = columns.numeric.get(feature.name)!;
      const width = numericWidth(feature);
      for (let r = 0; r < columns.rows; r += 1) {
        const x = values[r]!;
        const base = r * params.inputDim + offset;
        encodeNumeric(feature, x, target, base);
        if (feature.indicator && Number.isNaN(x)) target[base + width] = 1;
      }
      offset += width + (feature.indicator ? 1 : 0);
    } else {
      const indices = columns.categorical.get(feature.name)!;
      for (let r = 0; r < columns.rows; r += 1) {
        const index = indices[r]!;
        target[r * params.inputDim + offset + (index < 0 ? feature.values.length : index)] = 1;
      }
      offset += feature.values.length + 1;
    }
  }
  const trees = params.trees;
  if (trees) for (let r = 0; r < columns.rows; r += 1) target[(r + 1) * params.inputDim - 1] = treeInput(trees, target, r * params.inputDim);
  return target;
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
      const width = numericWidth(feature);
      encodeNumeric(feature, x, out, offset);
      if (feature.indicator && Number.isNaN(x)) out[offset + width] = 1;
      offset += width + (feature.indicator ? 1 : 0);
    } else {
      const index = categoryIndex(feature.values, value);
      out[offset + (index < 0 ? feature.values.length : index)] = 1;
      offset += feature.values.length + 1;
    }
  }
  if (params.trees) out[params.inputDim - 1] = treeInput(params.trees, out, 0);
  return out;
}
