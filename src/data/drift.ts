import {
  OTHER_CATEGORY,
  roundSignificant,
  type DataProfile,
  type FeatureBins,
  type CategoricalProfile,
  type NumericProfile,
  type ReferenceBins,
} from "./profile.js";

export interface DriftThresholds {
  /**
   * Fewer values than this make PSI mostly sampling noise: ten decile bins would hold under ten
   * values each. Applies to the rows of the batch and of the reference, and to each feature's
   * non-missing values; below it, only a jump in a feature's missing share is still reported.
   */
  minSampleSize: number;
  /** PSI below this means no meaningful shift. */
  psiModerate: number;
  /** PSI from psiModerate up to this is a moderate shift worth watching; at or above it, significant drift. */
  psiSignificant: number;
  /** The dataset drifts when at least this share of the compared features drift significantly. */
  driftShare: number;
}

/**
 * The usual PSI reading: below 0.1 no shift, 0.1 to 0.25 moderate, above 0.25 significant. The
 * dataset drifts when at least 30% of the compared features drift significantly.
 */
export const DRIFT_DEFAULTS: Readonly<DriftThresholds> = Object.freeze({
  minSampleSize: 100,
  psiModerate: 0.1,
  psiSignificant: 0.25,
  driftShare: 0.3,
});

export interface FeatureDrift {
  feature: string;
  psi: number | null;
  verdict: "stable" | "moderate" | "drift" | "insufficient-data" | "not-in-reference";
}

export interface DriftReport {
  reference: { rows: number; source: string };
  rows: number;
  features: FeatureDrift[];
  /** Share of the compared features (those with a PSI) whose verdict is "drift". */
  driftedShare: number;
  verdict: "stable" | "drift" | "insufficient-data";
  thresholds: DriftThresholds;
}

/**
 * An empty bin would make PSI infinite, so zero shares are lifted to this, as is standard. It
 * also bounds what one bin can add: a decile that empties adds 0.1 * ln(0.1 / 1e-4), about 0.69.
 */
const PSI_EPSILON = 1e-4;

/** Population stability index of two distributions over the same bins: sum of (a - e) * ln(a / e). */
export function psi(expected: number[], actual: number[]): number {
  if (expected.length !== actual.length) {
    throw new Error(`PSI needs matching bins, got ${expected.length} expected and ${actual.length} actual`);
  }
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, PSI_EPSILON);
    const a = Math.max(actual[i]!, PSI_EPSILON);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** The reference's value shares and this batch's counts, aligned bin by bin. */
function alignedBins(
  theirs: NumericProfile | CategoricalProfile,
  bins: Exclude<FeatureBins, { kind: "not-in-reference" }>,
): { shares: number[]; counts: number[] } {
  if (theirs.type === "numeric" && bins.kind === "numeric") {
    if (theirs.proportions.length !== bins.counts.length) {
      throw new Error(`bins of "${bins.feature}" were not counted against this reference`);
    }
    return { shares: theirs.proportions, counts: bins.counts };
  }
  if (theirs.type === "categorical" && bins.kind === "categorical") {
    const categories = [...new Set([...Object.keys(theirs.proportions), OTHER_CATEGORY])];
    return {
      shares: categories.map((c) => theirs.proportions[c] ?? 0),
      counts: categories.map((c) => bins.counts[c] ?? 0),
    };
  }
  throw new Error(`"${bins.feature}" is ${bins.kind} in the batch but ${theirs.type} in the reference`);
}

function verdictOf(value: number, t: DriftThresholds): "stable" | "moderate" | "drift" {
  if (value >= t.psiSignificant) return "drift";
  return value >= t.psiModerate ? "moderate" : "stable";
}

function compareFeature(reference: DataProfile, bins: FeatureBins, rows: number, t: DriftThresholds): FeatureDrift {
  const theirs = reference.features[bins.feature];
  if (bins.kind === "not-in-reference" || theirs === undefined) {
    return { feature: bins.feature, psi: null, verdict: "not-in-reference" };
  }
  const insufficient: FeatureDrift = { feature: bins.feature, psi: null, verdict: "insufficient-data" };
  const referenceRows = theirs.count + theirs.missing;
  if (rows < t.minSampleSize || referenceRows < t.minSampleSize) return insufficient;

  // Missing values are a bin of their own, so a feature that suddenly goes missing drifts.
  const theirMissing = theirs.missing / referenceRows;
  const ourMissing = bins.missing / rows;
  const present = rows - bins.missing;
  if (present >= t.minSampleSize && theirs.count >= t.minSampleSize) {
    const { shares, counts } = alignedBins(theirs, bins);
    const expected = [theirMissing, ...shares.map((share) => share * (1 - theirMissing))];
    const actual = [ourMissing, ...counts.map((count) => count / rows)];
    const value = roundSignificant(psi(expected, actual));
    return { feature: bins.feature, psi: value, verdict: verdictOf(value, t) };
  }
  // Too few values to compare their distribution, but enough rows to tell whether the share of
  // missing values moved; that alone can show drift, though it cannot show stability.
  const value = roundSignificant(psi([theirMissing, 1 - theirMissing], [ourMissing, 1 - ourMissing]));
  const verdict = verdictOf(value, t);
  return verdict === "stable" ? insufficient : { feature: bins.feature, psi: value, verdict };
}

/** Compares one batch, binned against the reference while it streamed, with that reference. */
export function driftReport(
  reference: DataProfile,
  referenceSource: string,
  bins: ReferenceBins,
  options: Partial<DriftThresholds> = {},
): DriftReport {
  // Field by field, so an option passed as undefined (an unset flag) keeps its default.
  const thresholds: DriftThresholds = {
    minSampleSize: options.minSampleSize ?? DRIFT_DEFAULTS.minSampleSize,
    psiModerate: options.psiModerate ?? DRIFT_DEFAULTS.psiModerate,
    psiSignificant: options.psiSignificant ?? DRIFT_DEFAULTS.psiSignificant,
    driftShare: options.driftShare ?? DRIFT_DEFAULTS.driftShare,
  };
  const features = bins.features.map((feature) => compareFeature(reference, feature, bins.rows, thresholds));
  const compared = features.filter((f) => f.psi !== null);
  const drifted = compared.filter((f) => f.verdict === "drift").length;
  const share = compared.length === 0 ? 0 : drifted / compared.length;
  const tooFewRows = bins.rows < thresholds.minSampleSize || reference.rows < thresholds.minSampleSize;
  const verdict: DriftReport["verdict"] =
    tooFewRows || compared.length === 0 ? "insufficient-data" : share >= thresholds.driftShare ? "drift" : "stable";
  return {
    reference: { rows: reference.rows, source: referenceSource },
    rows: bins.rows,
    features,
    driftedShare: roundSignificant(share),
    verdict,
    thresholds,
  };
}
