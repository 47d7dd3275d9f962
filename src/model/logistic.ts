/**
 * L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least
 * squares) in float64: the objective scikit-learn's LogisticRegression minimises with C = 1 and
 * balanced class weights, sum_i w_i * logloss_i + ||beta||^2 / 2 (the intercept not penalised);
 * with `balanced` false every row weighs 1 (Platt scaling, stack.ts).
 * The problem is convex, so ten or so Newton steps reach the optimum exactly and
 * deterministically, where gradient descent in tfjs needed dozens of epochs of small batches.
 */

export interface LogisticFit {
  kernel: Float64Array;
  bias: number;
  iterations: number;
}

/**
 * Newton steps cost rows x dim^2; past this many multiply-adds per step, the fit uses a stable
 * subset of the rows (the first ones, which are in row-hash order: a well-mixed sample). 5e7 is
 * about 110,000 rows of 20 features, plenty for 21 coefficients. At 3e8 (680,000 rows) the
 * baseline took 7.6 s of a 132 s one-epoch training on 1M rows (node --cpu-prof), more than any
 * other part the issue-13 work added; now about a sixth of that.
 */
const MAX_WORK_PER_STEP = 5e7;
const MAX_ITERATIONS = 50;
const TOLERANCE = 1e-8;

/** Fits on rows `rows` of X (dim columns); labels 0/1 per row of X. */
export function fitLogistic(X: Float32Array, dim: number, labels: Int8Array | Uint8Array, rows: Int32Array, C = 1, balanced = true): LogisticFit {
  const cap = Math.max(2000, Math.floor(MAX_WORK_PER_STEP / ((dim + 1) * (dim + 1))));
  const used = rows.length > cap ? rows.subarray(0, cap) : rows;
  const n = used.length;
  const p = dim + 1; // the last coefficient is the intercept
  let positives = 0;
  for (const r of used) positives += labels[r] === 1 ? 1 : 0;
  const weightOf = balanced ? [n / (2 * Math.max(1, n - positives)), n / (2 * Math.max(1, positives))] : [1, 1];
  const beta = new Float64Array(p);
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const row = new Float64Array(p);
  let iterations = 0;
  for (; iterations < MAX_ITERATIONS; iterations++) {
    gradient.fill(0);
    hessian.fill(0);
    for (let j = 0; j < dim; j++) {
      gradient[j] = beta[j]!;
      hessian[j * p + j] = 1;
    }
    for (const r of used) {
      const y = labels[r] === 1 ? 1 : 0;
      const w = C * weightOf[y]!;
      let z = beta[dim]!;
      for (let j = 0; j < dim; j++) {
        row[j] = X[r * dim + j]!;
        z += beta[j]! * row[j]!;
      }
      row[dim] = 1;
      const mu = 1 / (1 + Math.exp(-z));
      const g = w * (mu - y);
      const h = w * mu * (1 - mu);
      for (let a = 0; a < p; a++) {
        const ha = h * row[a]!;
        if (ha === 0 && g === 0) continue;
        gradient[a]! += g * row[a]!;
        for (let b = 0; b <= a; b++) hessian[a * p + b]! += ha * row[b]!;
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hessian[b * p + a] = hessian[a * p + b]!;
    const step = solveSymmetric(hessian, gradient, p);
    let size = 0;
    for (let a = 0; a < p; a++) {
      beta[a]! -= step[a]!;
      size = Math.max(size, Math.abs(step[a]!));
    }
    if (size < TOLERANCE) {
      iterations++;
      break;
    }
  }
  return { kernel: beta.slice(0, dim), bias: beta[dim]!, iterations };
}

/**
 * Fits kept by the rows they were fitted on. The network's linear term starts at the logistic
 * regression of each fold's rows and of the refit's, which are exactly the baseline's (the same
 * folds from the same seed), so both read one fit: Newton's method costs rows x inputs^2 a step,
 * and each fit would otherwise be done twice. Rows are compared whole, never by a hash.
 */
export class LogisticFits {
  private readonly fits: Array<{ rows: Int32Array; fit: LogisticFit }> = [];

  constructor(private readonly inputs: { X: Float32Array; dim: number; labels: Int8Array }) {}

  of(rows: Int32Array): LogisticFit {
    const hit = this.fits.find((f) => f.rows.length === rows.length && f.rows.every((r, i) => r === rows[i]));
    if (hit) return hit.fit;
    const fit = fitLogistic(this.inputs.X, this.inputs.dim, this.inputs.labels, rows);
    this.fits.push({ rows: rows.slice(), fit });
    return fit;
  }
}

/** Solves A x = b for a symmetric positive definite A (Cholesky), with a tiny ridge if needed. */
function solveSymmetric(A: Float64Array, b: Float64Array, p: number): Float64Array {
  for (let ridge = 0; ; ridge = ridge === 0 ? 1e-10 : ridge * 100) {
    const L = new Float64Array(p * p);
    let ok = true;
    for (let i = 0; i < p && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = A[i * p + j]! + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) sum -= L[i * p + k]! * L[j * p + k]!;
        if (i === j) {
          if (!(sum > 0)) ok = false;
          else L[i * p + i] = Math.sqrt(sum);
        } else L[i * p + j] = sum / L[j * p + j]!;
      }
    }
    if (!ok) continue;
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let sum = b[i]!;
      for (let k = 0; k < i; k++) sum -= L[i * p + k]! * y[k]!;
      y[i] = sum / L[i * p + i]!;
    }
    const x = new Float64Array(p);
    for (let i = p - 1; i >= 0; i--) {
      let sum = y[i]!;
      for (let k = i + 1; k < p; k++) sum -= L[k * p + i]! * x[k]!;
      x[i] = sum / L[i * p + i]!;
    }
    return x;
  }
}

/** Probabilities of rows `rows` of X under a fit (float64, then stored as float32 like tfjs's). */
export function predictLogistic(fit: { kernel: ArrayLike<number>; bias: number }, X: Float32Array, dim: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    let z = fit.bias;
    for (let j = 0; j < dim; j++) z += fit.kernel[j]! * X[r * dim + j]!;
    out[i] = 1 / (1 + Math.exp(-z));
  });
  return out;
}
