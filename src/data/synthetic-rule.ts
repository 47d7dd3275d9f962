// The world the synthetic generator samples from: where each feature lives, how often each
// category occurs, and the rule that turns a row into the probability of a positive label.
// Everything is derived from feature names, never from the seed, so a schema always describes
// the same world and only the sampled rows depend on the seed: a model trained on one seed's
// rows is judged fairly on another's.
import type { MlopsConfig } from "../config/schema.js";

/** The splitmix32 step: spreads any 32-bit state into a well-mixed 32-bit output. */
export function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return { state: next, value: (z ^ (z >>> 15)) >>> 0 };
}

/** `count` uniforms in [0, 1) fixed by `text` (FNV-1a of the text, stretched by splitmix32). */
function uniformsOf(text: string, count: number): number[] {
  let state = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) state = Math.imul(state ^ text.charCodeAt(i), 0x01000193);
  const uniforms: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const step = splitmix32(state);
    state = step.state;
    uniforms.push(step.value / 2 ** 32);
  }
  return uniforms;
}

export interface NumericDistribution {
  name: string;
  /** Mean and standard deviation in this world (drift moves and widens them). */
  location: number;
  scale: number;
  min: number;
  max: number;
}

export interface CategoricalDistribution {
  name: string;
  values: readonly string[];
  /** Running sums of the category frequencies, for sampling by one uniform draw. */
  cumulative: Float64Array;
  frequencies: number[];
}

type NumericFeature = { name: string; min?: number | undefined; max?: number | undefined };

/** Drift 1 moves a feature's mean by `shift` drift-0 standard deviations and widens its spread by `1 + widen`. */
function numericDistribution(feature: NumericFeature, drift: number): NumericDistribution {
  const [u1 = 0, u2 = 0, u3 = 0, u4 = 0, u5 = 0] = uniformsOf(feature.name, 5);
  const min = feature.min ?? -Infinity;
  const max = feature.max ?? Infinity;
  // Real columns differ wildly in location and unit, so a model that skips standardisation should suffer.
  let scale = Math.exp(Math.log(0.5) + u2 * Math.log(40));
  let location = -50 + 100 * u1;
  // A bounded feature keeps most of its mass inside its bounds, so clipping stays the exception.
  if (Number.isFinite(min) && Number.isFinite(max)) {
    scale = (max - min) / 6;
    location = (min + max) / 2;
  } else if (Number.isFinite(min)) {
    location = min + 3 * scale;
  } else if (Number.isFinite(max)) {
    location = max - 3 * scale;
  }
  const shift = (u3 < 0.5 ? -1 : 1) * (0.5 + u4);
  const widen = 0.5 * u5;
  return { name: feature.name, location: location + drift * shift * scale, scale: scale * (1 + drift * widen), min, max };
}

function categoricalDistribution(feature: { name: string; values: string[] }, drift: number): CategoricalDistribution {
  const weights = uniformsOf(feature.name, feature.values.length).map((u) => 0.3 + u);
  const total = weights.reduce((sum, w) => sum + w, 0);
  const before = weights.map((w) => w / total);
  // Drift reshuffles the mix and lets the rarest category surge to half of all rows, as a
  // new campaign or a changed customer base would.
  const rarest = before.indexOf(Math.min(...before));
  const after = before.map((_, k) => 0.5 * (before[(k + 1) % before.length] ?? 0) + (k === rarest ? 0.5 : 0));
  const frequencies = before.map((p, k) => (1 - drift) * p + drift * (after[k] ?? 0));
  const cumulative = new Float64Array(frequencies.length);
  let sum = 0;
  frequencies.forEach((p, k) => {
    sum += p;
    cumulative[k] = sum;
  });
  cumulative[cumulative.length - 1] = 1;
  return { name: feature.name, values: feature.values, cumulative, frequencies };
}

type Term = { kind: "linear" | "quadratic" | "wave"; a: number; weight: number } | { kind: "interaction"; a: number; b: number; weight: number };

/** Slow enough that a small network learns the wave from ten thousand rows. */
const WAVE_FREQUENCY = 1.0;
/** Var[sin(f z)] for standard normal z, so the wave's share of the score is known. */
const WAVE_VARIANCE = (1 - Math.exp(-2 * WAVE_FREQUENCY ** 2)) / 2;
/** The score is standardised; this cut leaves roughly 40% of rows positive. */
const THRESHOLD = 0.25;
/** Logistic noise scale on the standardised score: small enough for a Bayes F1 near 0.95. */
const NOISE = 0.06;

/**
 * The terms of a rule over numeric features taken in `order`. A nonlinear term comes in as
 * soon as there are two features, so even small schemas defeat a linear model. On the sample
 * schema about half the score's variance is linear in the features: a logistic regression
 * reaches an F1 near 0.72 where the rule itself reaches about 0.95.
 */
function ruleTerms(order: number[], sign: number): Term[] {
  const [s0, s1, s2, s3, s4, s5, s6] = order;
  const terms: Term[] = [];
  if (s0 !== undefined) terms.push({ kind: "linear", a: s0, weight: sign * 1.0 });
  if (s1 !== undefined) terms.push({ kind: "quadratic", a: s1, weight: sign * 0.8 });
  if (s2 !== undefined && s3 !== undefined) terms.push({ kind: "interaction", a: s2, b: s3, weight: sign * 1.2 });
  if (s4 !== undefined) terms.push({ kind: "wave", a: s4, weight: sign * 1.2 });
  if (s5 !== undefined) terms.push({ kind: "linear", a: s5, weight: sign * -0.8 });
  if (s6 !== undefined) terms.push({ kind: "linear", a: s6, weight: sign * 0.6 });
  return terms;
}

function termVariance(term: Term): number {
  const w2 = term.weight ** 2;
  if (term.kind === "quadratic") return 2 * w2;
  if (term.kind === "wave") return WAVE_VARIANCE * w2;
  return w2;
}

interface Rule {
  terms: Term[];
  /** Per-category offsets of the first categorical feature, centred on this world's frequencies. */
  offsets: Float64Array;
  /** Standard deviation of the raw score, to put every schema's score on one scale. */
  spread: number;
}

function rule(terms: Term[], rawOffsets: number[], frequencies: number[]): Rule {
  const mean = rawOffsets.reduce((sum, o, k) => sum + o * (frequencies[k] ?? 0), 0);
  const offsets = Float64Array.from(rawOffsets, (o) => o - mean);
  const variance =
    terms.reduce((sum, t) => sum + termVariance(t), 0) + Array.from(offsets).reduce((sum, o, k) => sum + o * o * (frequencies[k] ?? 0), 0);
  return { terms, offsets, spread: variance > 0 ? Math.sqrt(variance) : 1 };
}

function score(r: Rule, z: Float64Array, category: number): number {
  let s = category >= 0 ? (r.offsets[category] ?? 0) : 0;
  for (const t of r.terms) {
    const za = z[t.a] ?? 0;
    if (t.kind === "interaction") s += t.weight * za * (z[t.b] ?? 0);
    else if (t.kind === "linear") s += t.weight * za;
    else if (t.kind === "quadratic") s += t.weight * (za * za - 1);
    else s += t.weight * Math.sin(WAVE_FREQUENCY * za);
  }
  return s / r.spread;
}

export interface SyntheticWorld {
  numeric: NumericDistribution[];
  categorical: CategoricalDistribution[];
  /**
   * The noiseless probability of a positive label. `values` holds the numeric features in
   * schema order (NaN when missing); `category` indexes the first categorical's values (-1 when absent).
   */
  probability(values: Float64Array, category: number): number;
}

/**
 * The world at `drift`: at 0 the original rule holds; at 1 a different rule (other features,
 * opposite signs, negated category effects) holds over shifted distributions, so the original
 * rule's decisions are no better than chance; between them the two scores are blended.
 */
export function syntheticWorld(config: MlopsConfig, drift: number): SyntheticWorld {
  const numeric: NumericDistribution[] = [];
  const categorical: CategoricalDistribution[] = [];
  for (const feature of config.features) {
    if (feature.type === "numeric") numeric.push(numericDistribution(feature, drift));
    else categorical.push(categoricalDistribution(feature, drift));
  }
  const first = categorical[0];
  const frequencies = first?.frequencies ?? [];
  const rawOffsets = first ? first.values.map((v) => 2 * (uniformsOf(`${first.name}=${v}`, 1)[0] ?? 0.5) - 1) : [];
  const indices = numeric.map((_, j) => j);
  const before = rule(ruleTerms(indices, 1), rawOffsets, frequencies);
  // The drifted rule reads the features from the other end of the schema, so with enough
  // features it depends on columns the original rule ignored.
  const after = rule(
    ruleTerms([...indices].reverse(), -1),
    rawOffsets.map((o) => -o),
    frequencies,
  );
  const norm = Math.hypot(1 - drift, drift);
  const z = new Float64Array(numeric.length);
  // Only the features some rule reads need standardising; the rest stay at zero.
  const read = Int32Array.from(new Set([...before.terms, ...after.terms].flatMap((t) => (t.kind === "interaction" ? [t.a, t.b] : [t.a]))));

  return {
    numeric,
    categorical,
    probability(values, category) {
      for (const j of read) {
        const p = numeric[j] as NumericDistribution;
        const x = values[j] ?? NaN;
        // A missing value sits at the mean, where it tells the rule nothing.
        z[j] = Number.isFinite(x) && p.scale > 0 ? (x - p.location) / p.scale : 0;
      }
      const s0 = drift < 1 ? score(before, z, category) : 0;
      const s1 = drift > 0 ? score(after, z, category) : 0;
      const s = ((1 - drift) * s0 + drift * s1) / norm;
      return 1 / (1 + Math.exp(-(s - THRESHOLD) / NOISE));
    },
  };
}
