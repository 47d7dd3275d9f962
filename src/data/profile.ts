import type { Feature } from "../config/schema.js";
import type { FeatureValue } from "./types.js";

/** Values of a numeric feature, summarised so later batches can be compared with it. */
export interface NumericProfile {
  type: "numeric";
  /** Non-missing values seen. */
  count: number;
  /** Missing values seen (null, or a number that is not finite). */
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation; 0 for a single value. */
  std: number | null;
  /** Bin edges: deciles of the data (interior cut points, ascending, deduplicated). */
  edges: number[];
  /** Share of non-missing values in each of edges.length + 1 bins; bin i holds edges[i-1] < v <= edges[i]. */
  proportions: number[];
}

/** Values of a categorical feature, summarised so later batches can be compared with it. */
export interface CategoricalProfile {
  type: "categorical";
  count: number;
  missing: number;
  /** Share of non-missing values per category; unseen categories are compared via an "__other__" bucket. */
  proportions: Record<string, number>;
}

/** One batch's profile. Stored as JSON with the batch, so it may later serve as a drift reference. */
export interface DataProfile {
  rows: number;
  features: Record<string, NumericProfile | CategoricalProfile>;
}

/**
 * Counts of one batch's values in a reference profile's bins, for one feature: numeric counts
 * align with the reference's bins, categorical counts are keyed by the reference's categories
 * plus OTHER_CATEGORY. "not-in-reference" when the reference holds no profile of that name and type.
 */
export type FeatureBins =
  | { feature: string; kind: "numeric"; missing: number; counts: number[] }
  | { feature: string; kind: "categorical"; missing: number; counts: Record<string, number> }
  | { feature: string; kind: "not-in-reference" };

/** One batch binned against a reference profile, in the schema's feature order. */
export interface ReferenceBins {
  rows: number;
  features: FeatureBins[];
}

/** The bucket for categories a reference never saw, or that fell beyond the tracking cap. */
export const OTHER_CATEGORY = "__other__";

/** Enough for deciles within about half a percentage point, at 160 kB per numeric feature. */
const RESERVOIR_SIZE = 20_000;
/** Beyond this many distinct values a feature is hardly categorical; the rest share OTHER_CATEGORY. */
const MAX_TRACKED_CATEGORIES = 1000;
const UNTRACKED = MAX_TRACKED_CATEGORIES;
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const SEED = 0x6d6c6f70;

/** Profiles are stored per batch; six significant digits keep them compact and stable. */
export function roundSignificant(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(6));
}

/**
 * The bin of value: how many edges lie below it. With nine edges, nine branch-free comparisons
 * run in about half the time of a binary search, whose branches mispredict on random data; so
 * decile edges are padded to nine with +Infinity, which no value exceeds.
 */
function binOf(e: Float64Array, v: number): number {
  if (e.length === DECILES.length) {
    return +(e[0]! < v) + +(e[1]! < v) + +(e[2]! < v) + +(e[3]! < v) + +(e[4]! < v) + +(e[5]! < v) + +(e[6]! < v) + +(e[7]! < v) + +(e[8]! < v);
  }
  let bin = 0;
  for (let i = 0; i < e.length; i++) bin += +(e[i]! < v);
  return bin;
}

/** How many of the ascending values are <= limit. */
function countAtMost(sorted: Float64Array, limit: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= limit) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** mulberry32: a seeded PRNG, so the same batch always yields the same profile. Returns [0, 1). */
function nextUniform(state: Uint32Array, index: number): number {
  let t = (state[index] = (state[index]! + 0x6d2b79f5) >>> 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * Streams rows once and profiles each feature in bounded memory: exact counts, min/max and a
 * running (Welford) mean and variance; deciles from a seeded reservoir sample; category counts up
 * to MAX_TRACKED_CATEGORIES. Given a reference, it also bins every value against the reference's
 * edges and categories, so the drift report needs no second pass over the batch.
 * State lives in typed arrays indexed by feature, so add() allocates nothing per row.
 */
export class ProfileAccumulator {
  private rows = 0;
  private readonly isNumeric: Uint8Array;
  private readonly count: Float64Array;
  private readonly missing: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly reservoirs: Float64Array[];
  private readonly random: Uint32Array;
  /** Per categorical feature: category to its slot in categoryCounts; slot UNTRACKED counts the rest. */
  private readonly categorySlots: Map<string, number>[];
  private readonly categoryCounts: Float64Array[];
  private readonly referenceEdges: (Float64Array | undefined)[];
  /** Reference category to its bin; the last bin is OTHER_CATEGORY. */
  private readonly referenceCategories: (Map<string, number> | undefined)[];
  /** A tracked category's slot to its reference bin, so a value costs one map lookup, not two. */
  private readonly referenceBinOfSlot: Int32Array[];
  private readonly referenceCounts: (Float64Array | undefined)[];

  constructor(
    private readonly features: readonly Feature[],
    private readonly reference?: DataProfile,
  ) {
    const n = features.length;
    const categorical = (f: Feature) => f.type === "categorical";
    this.isNumeric = Uint8Array.from(features, (f) => (f.type === "numeric" ? 1 : 0));
    this.count = new Float64Array(n);
    this.missing = new Float64Array(n);
    this.mean = new Float64Array(n);
    this.m2 = new Float64Array(n);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n).fill(-Infinity);
    this.reservoirs = features.map((f) => new Float64Array(f.type === "numeric" ? RESERVOIR_SIZE : 0));
    this.random = Uint32Array.from(features, (_, j) => SEED + Math.imul(j + 1, 0x9e3779b9));
    this.categorySlots = features.map(() => new Map());
    this.categoryCounts = features.map((f) => new Float64Array(categorical(f) ? MAX_TRACKED_CATEGORIES + 1 : 0));
    // Only a reference profile of the same name and type can be compared with.
    const theirs = features.map((f) => {
      const profile = reference?.features[f.name];
      return profile?.type === f.type ? profile : undefined;
    });
    this.referenceEdges = theirs.map((profile) => {
      if (profile?.type !== "numeric") return undefined;
      const padded = new Float64Array(Math.max(DECILES.length, profile.edges.length)).fill(Infinity);
      padded.set(profile.edges);
      return padded;
    });
    this.referenceCategories = theirs.map((profile) => {
      if (profile?.type !== "categorical") return undefined;
      const known = Object.keys(profile.proportions).filter((c) => c !== OTHER_CATEGORY);
      return new Map(known.map((c, bin) => [c, bin]));
    });
    this.referenceBinOfSlot = features.map((f) => new Int32Array(categorical(f) ? MAX_TRACKED_CATEGORIES : 0));
    this.referenceCounts = theirs.map((profile, j) => {
      if (profile === undefined) return undefined;
      const bins = profile.type === "numeric" ? profile.edges.length : this.referenceCategories[j]!.size;
      return new Float64Array(bins + 1);
    });
  }

  add(values: readonly FeatureValue[]): void {
    this.rows++;
    // Runs for every value of every row, so the numeric path stays inline, on locals and typed arrays.
    const { isNumeric, count, missing, mean, m2, min, max, reservoirs, random, referenceEdges, referenceCounts } = this;
    for (let j = 0; j < isNumeric.length; j++) {
      const value = values[j];
      if (isNumeric[j] === 0) {
        if (typeof value === "string") this.addCategory(j, value);
        else missing[j]!++;
        continue;
      }
      // Validation yields finite numbers; anything else would poison the JSON, so it counts as missing.
      if (typeof value !== "number" || !Number.isFinite(value)) {
        missing[j]!++;
        continue;
      }
      const n = ++count[j]!;
      const delta = value - mean[j]!;
      mean[j]! += delta / n;
      m2[j]! += delta * (value - mean[j]!);
      if (value < min[j]!) min[j] = value;
      if (value > max[j]!) max[j] = value;
      // Reservoir sampling (Algorithm R): the n-th value takes a random slot with probability
      // RESERVOIR_SIZE / n. The slot is made an int32 first: V8 stores through a double index slowly.
      const slot = n <= RESERVOIR_SIZE ? n - 1 : Math.floor(nextUniform(random, j) * n);
      if (slot < RESERVOIR_SIZE) reservoirs[j]![slot | 0] = value;
      const edges = referenceEdges[j];
      if (edges !== undefined) referenceCounts[j]![binOf(edges, value)]!++;
    }
  }

  private addCategory(j: number, value: string): void {
    this.count[j]!++;
    const slots = this.categorySlots[j]!;
    let slot = slots.get(value);
    if (slot === undefined) slot = this.trackCategory(j, value);
    this.categoryCounts[j]![slot]!++;
    const bins = this.referenceCounts[j];
    if (bins === undefined) return;
    const bin = slot === UNTRACKED ? this.referenceBin(j, value) : this.referenceBinOfSlot[j]![slot]!;
    bins[bin]!++;
  }

  /** Gives a category seen for the first time a slot of its own, while slots remain. */
  private trackCategory(j: number, value: string): number {
    const slots = this.categorySlots[j]!;
    if (slots.size === MAX_TRACKED_CATEGORIES) return UNTRACKED;
    const slot = slots.size;
    slots.set(value, slot);
    this.referenceBinOfSlot[j]![slot] = this.referenceBin(j, value);
    return slot;
  }

  private referenceBin(j: number, value: string): number {
    const known = this.referenceCategories[j];
    return known === undefined ? 0 : (known.get(value) ?? known.size);
  }

  /** This batch's own profile. */
  profile(): DataProfile {
    const features: DataProfile["features"] = {};
    this.features.forEach((feature, j) => {
      features[feature.name] = this.isNumeric[j] === 1 ? this.numericProfile(j) : this.categoricalProfile(j);
    });
    return { rows: this.rows, features };
  }

  private numericProfile(j: number): NumericProfile {
    const count = this.count[j]!;
    const base = { type: "numeric" as const, count, missing: this.missing[j]! };
    if (count === 0) return { ...base, min: null, max: null, mean: null, std: null, edges: [], proportions: [0] };
    const sample = this.reservoirs[j]!.slice(0, Math.min(count, RESERVOIR_SIZE)).sort();
    // Edges are rounded before the proportions are counted, so the stored edges and proportions
    // agree exactly when a later batch is binned against them.
    const edges = [...new Set(DECILES.map((q) => roundSignificant(sample[Math.ceil(q * sample.length) - 1]!)))];
    const below = [0, ...edges.map((edge) => countAtMost(sample, edge)), sample.length];
    const proportions = below.slice(1).map((atMost, i) => roundSignificant((atMost - below[i]!) / sample.length));
    return {
      ...base,
      min: roundSignificant(this.min[j]!),
      max: roundSignificant(this.max[j]!),
      mean: roundSignificant(this.mean[j]!),
      std: roundSignificant(count > 1 ? Math.sqrt(this.m2[j]! / (count - 1)) : 0),
      edges,
      proportions,
    };
  }

  private categoricalProfile(j: number): CategoricalProfile {
    const count = this.count[j]!;
    const counts = this.categoryCounts[j]!;
    const shares = [...this.categorySlots[j]!].map(([category, slot]): [string, number] => [category, roundSignificant(counts[slot]! / count)]);
    const untracked = counts[UNTRACKED]!;
    if (untracked > 0) shares.push([OTHER_CATEGORY, roundSignificant(untracked / count)]);
    // fromEntries defines own properties, so even a category named "__proto__" survives.
    const proportions: Record<string, number> = Object.fromEntries(shares);
    return { type: "categorical", count, missing: this.missing[j]!, proportions };
  }

  /** Counts of this batch's values in the reference's bins; undefined without a reference. */
  binnedAgainstReference(): ReferenceBins | undefined {
    if (this.reference === undefined) return undefined;
    const features = this.features.map((feature, j): FeatureBins => {
      const counts = this.referenceCounts[j];
      if (counts === undefined) return { feature: feature.name, kind: "not-in-reference" };
      const missing = this.missing[j]!;
      const known = this.referenceCategories[j];
      if (known === undefined) return { feature: feature.name, kind: "numeric", missing, counts: Array.from(counts) };
      const byCategory: Record<string, number> = Object.fromEntries([...known].map(([category, index]) => [category, counts[index]!]));
      byCategory[OTHER_CATEGORY] = counts[counts.length - 1]!;
      return { feature: feature.name, kind: "categorical", missing, counts: byCategory };
    });
    return { rows: this.rows, features };
  }
}
