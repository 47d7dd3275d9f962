// Deterministic synthetic rows for any feature schema, behind `mlops seed`. The labels follow a
// nonlinear rule with a little noise (synthetic-rule.ts), so a small network can learn what a
// linear model cannot, and `drift` moves both the features and the rule, so that monitoring
// and retraining have something real to react to.
import type { MlopsConfig } from "../config/schema.js";
import { usageError } from "../errors.js";
import { splitmix32, syntheticWorld, type CategoricalDistribution, type NumericDistribution, type SyntheticWorld } from "./synthetic-rule.js";
import type { RawRow, RawValue } from "./types.js";

export interface SyntheticOptions {
  /** How many rows. */
  rows: number;
  /** uint32; the same seed, options and schema give identical rows. */
  seed: number;
  /** 0..1: 0 is the world a first model is trained on, 1 a fully changed one. */
  drift: number;
  /** 0..1: that share of rows gets label null. */
  unlabeledFraction: number;
}

/**
 * Small Fast Counter (sfc32), seeded through splitmix32: fast, well distributed and ours, so a
 * seed gives the same rows on every platform and Node version, which Math.random cannot. The
 * state lives in an Int32Array because V8 boxes int32 values kept in closures or fields, and
 * that allocation would dominate a million-row run.
 */
class RandomStream {
  private readonly state: Int32Array;

  constructor(seedWords: readonly number[]) {
    this.state = Int32Array.from(seedWords);
    for (let i = 0; i < 12; i += 1) this.uniform(); // the first outputs still echo the seed words
  }

  /** A uniform draw in [0, 1). */
  uniform(): number {
    const s = this.state;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const d = s[3] as number;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /**
   * Fills `out` with standard normals by the polar form of Box–Muller (Marsaglia): no sine or
   * cosine, which makes it the cheaper variant for the costliest step of a million rows.
   */
  normals(out: Float64Array): void {
    for (let i = 0; i < out.length; i += 2) {
      let u = 0;
      let v = 0;
      let r2 = 0;
      do {
        u = 2 * this.uniform() - 1;
        v = 2 * this.uniform() - 1;
        r2 = u * u + v * v;
      } while (r2 >= 1 || r2 === 0);
      const factor = Math.sqrt((-2 * Math.log(r2)) / r2);
      out[i] = u * factor;
      if (i + 1 < out.length) out[i + 1] = v * factor;
    }
  }
}

/** Two independent streams, so the unlabelled share never changes the features or the other labels. */
function randomStreams(seed: number): { features: RandomStream; labels: RandomStream } {
  let state = seed | 0;
  const words: number[] = [];
  for (let i = 0; i < 8; i += 1) {
    const step = splitmix32(state);
    state = step.state;
    words.push(step.value | 0);
  }
  return { features: new RandomStream(words.slice(0, 4)), labels: new RandomStream(words.slice(4, 8)) };
}

function checkOptions(options: SyntheticOptions): void {
  const { rows, seed, drift, unlabeledFraction } = options;
  const problems: string[] = [];
  if (!Number.isSafeInteger(rows) || rows < 0) problems.push("rows must be a whole number >= 0");
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) problems.push("seed must be a whole number from 0 to 4294967295");
  if (!(drift >= 0 && drift <= 1)) problems.push("drift must lie between 0 and 1");
  if (!(unlabeledFraction >= 0 && unlabeledFraction <= 1)) problems.push("unlabeledFraction must lie between 0 and 1");
  if (problems.length > 0) {
    throw usageError("SYNTHETIC_OPTIONS_INVALID", `Invalid synthetic data options: ${problems.join("; ")}.`, undefined, { problems });
  }
}

/**
 * Rows as a source would deliver them: feature values in schema order (numbers for numeric
 * features, strings for categorical), then the label column holding config.label.positive or
 * config.label.negative, or null for the unlabelled share. When the schema names a rowKey the
 * row leads with a key unique per seed, so re-seeding with the same seed names the same rows.
 * Options are checked on the call, not on the first row.
 */
export function generateRows(config: MlopsConfig, options: SyntheticOptions): Generator<RawRow> {
  checkOptions(options);
  return rowsOf(config, options);
}

/** What a row is built from: the numeric values and category indices in schema order. */
interface RowParts {
  key: string | null;
  numbers: Float64Array;
  categories: Int32Array;
  label: RawValue;
}

type RowFactory = (parts: RowParts, categoryValues: readonly (readonly string[])[]) => RawRow;

/**
 * Compiles a function that builds a row as one object literal. At a million rows this is
 * several times faster in V8 than growing an empty object a property at a time, and reading
 * the numbers straight from a typed array keeps the boxed values out of long-lived arrays,
 * which would otherwise pay the garbage collector's write barrier on every store. Keys are
 * quoted by JSON.stringify; `__proto__` is a computed key so it stays an ordinary column.
 */
function rowFactory(config: MlopsConfig): RowFactory {
  const property = (column: string, value: string) => {
    const key = JSON.stringify(column);
    return `${column === "__proto__" ? `[${key}]` : key}: ${value}`;
  };
  const properties: string[] = [];
  if (config.rowKey !== undefined) properties.push(property(config.rowKey, "p.key"));
  let numeric = 0;
  let categorical = 0;
  for (const feature of config.features) {
    if (feature.type === "numeric") {
      properties.push(property(feature.name, `p.numbers[${numeric}]`));
      numeric += 1;
    } else {
      properties.push(property(feature.name, `v[${categorical}][p.categories[${categorical}]]`));
      categorical += 1;
    }
  }
  properties.push(property(config.label.name, "p.label"));
  return new Function("p", "v", `return { ${properties.join(", ")} };`) as RowFactory;
}

/** Draws one row after another; a plain class, because V8 optimises its loop better than a generator's. */
class RowSampler {
  private readonly world: SyntheticWorld;
  private readonly random: { features: RandomStream; labels: RandomStream };
  private readonly normals: Float64Array;
  private readonly parts: RowParts;
  private readonly categoryValues: (readonly string[])[];
  private readonly makeRow: RowFactory;
  private drawn = 0;

  constructor(
    private readonly config: MlopsConfig,
    private readonly options: SyntheticOptions,
  ) {
    this.world = syntheticWorld(config, options.drift);
    this.random = randomStreams(options.seed);
    this.normals = new Float64Array(this.world.numeric.length);
    this.parts = {
      key: null,
      numbers: new Float64Array(this.world.numeric.length),
      categories: new Int32Array(this.world.categorical.length),
      label: null,
    };
    this.categoryValues = this.world.categorical.map((p) => p.values);
    this.makeRow = rowFactory(config);
  }

  next(): RawRow {
    const { world, random, normals, parts } = this;
    const { numbers, categories } = parts;
    this.drawn += 1;
    if (this.config.rowKey !== undefined) parts.key = `${this.options.seed}-${this.drawn}`;
    random.features.normals(normals);
    for (let j = 0; j < numbers.length; j += 1) {
      const p = world.numeric[j] as NumericDistribution;
      const drawn = Math.round((p.location + p.scale * (normals[j] as number)) * 1e4) / 1e4;
      numbers[j] = drawn < p.min ? p.min : Math.min(drawn, p.max);
    }
    for (let j = 0; j < categories.length; j += 1) {
      const cumulative = (world.categorical[j] as CategoricalDistribution).cumulative;
      const u = random.features.uniform();
      let k = 0;
      while (u >= (cumulative[k] as number)) k += 1;
      categories[j] = k;
    }
    // Both label draws happen on every row, so the unlabelled share never shifts later labels.
    const noise = random.labels.uniform();
    const unlabelled = random.labels.uniform() < this.options.unlabeledFraction;
    const { positive, negative } = this.config.label;
    const probability = world.probability(numbers, categories.length > 0 ? (categories[0] as number) : -1);
    parts.label = unlabelled ? null : noise < probability ? positive : negative;
    return this.makeRow(parts, this.categoryValues);
  }
}

function* rowsOf(config: MlopsConfig, options: SyntheticOptions): Generator<RawRow> {
  const sampler = new RowSampler(config, options);
  for (let i = 0; i < options.rows; i += 1) yield sampler.next();
}

const worlds = new WeakMap<MlopsConfig, Map<number, SyntheticWorld>>();

function worldFor(config: MlopsConfig, drift: number): SyntheticWorld {
  let byDrift = worlds.get(config);
  if (!byDrift) worlds.set(config, (byDrift = new Map()));
  let world = byDrift.get(drift);
  if (!world) byDrift.set(drift, (world = syntheticWorld(config, drift)));
  return world;
}

/**
 * The noiseless probability the generating rule at `drift` assigns to a row, for tests and the
 * evaluate gate (the Bayes-optimal decision is probability > 0.5). Values may come as a source
 * gives them: numeric strings are read as numbers; missing or unreadable values count as average.
 */
export function trueProbability(config: MlopsConfig, row: RawRow, drift: number): number {
  if (!(drift >= 0 && drift <= 1))
    throw usageError("SYNTHETIC_OPTIONS_INVALID", "drift must lie between 0 and 1.", "Pass --drift between 0 and 1, e.g. --drift 0.3.");
  const world = worldFor(config, drift);
  const values = new Float64Array(world.numeric.length);
  world.numeric.forEach((profile, j) => {
    const raw = row[profile.name];
    values[j] = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  });
  const first = world.categorical[0];
  const raw = first ? row[first.name] : null;
  const category = first && raw !== null && raw !== undefined ? first.values.indexOf(String(raw)) : -1;
  return world.probability(values, category);
}
