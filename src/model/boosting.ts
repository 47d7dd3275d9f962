/**
 * Gradient-boosted trees on the network's encoded inputs, the algorithm and defaults of
 * scikit-learn's GradientBoostingClassifier (log loss, 100 regression trees of depth 3 fitted
 * to the residuals with exact splits between distinct values, Newton leaf values, learning
 * rate 0.1, every row and column). Small data only: a split search reads every column's
 * sorted rows at every depth, rows x columns x 300 steps a model.
 *
 * Why it is here: on tables where trees rank better than any smooth function of the inputs
 * (cars, where a displacement value names the maker; ionosphere; glass) the network fell short
 * of gradient boosting by 0.03-0.10 F1, and no change of the network's own closed that (see the
 * README's trials). On by default (model.boostedTrees; --no-trees for one run): they are
 * cross-validated on the network's folds and the served network blends their score in by a
 * weight chosen out of fold (stack.ts).
 */

export interface Tree {
  /** Per node: the input column split on, or -1 for a leaf. */
  column: number[];
  /** Per node: rows with input <= threshold go left; a leaf's score (learning rate applied) otherwise. */
  value: number[];
  /** Per node: the left child's index (the right child's is left + 1); 0 for a leaf. */
  left: number[];
}

export interface BoostedModel {
  /** The log odds of the training rows' positive share, where every score starts. */
  init: number;
  trees: Tree[];
}

export const BOOSTING = { trees: 100, depth: 3, learningRate: 0.1 } as const;

/** The raw score (log odds) of the row at x[at..] under a model. */
export function boostedScore(model: BoostedModel, x: ArrayLike<number>, at: number): number {
  let score = model.init;
  for (const tree of model.trees) {
    let node = 0;
    while (tree.column[node]! >= 0) node = tree.left[node]! + (x[at + tree.column[node]!]! <= tree.value[node]! ? 0 : 1);
    score += tree.value[node]!;
  }
  return score;
}

/**
 * Fits a model on rows `rows` of X (dim values a row), reading only `columns`. Deterministic:
 * no sampling, and ties between splits of equal gain go to the first column, then the lowest
 * threshold.
 */
export function fitBoosted(X: Float32Array, dim: number, labels: Int8Array | Uint8Array, rows: Int32Array, columns: readonly number[]): BoostedModel {
  const n = rows.length;
  const y = Float64Array.from(rows, (r) => (labels[r] === 1 ? 1 : 0));
  const positives = y.reduce((a, b) => a + b, 0);
  const share = Math.min(Math.max(positives / n, 1e-12), 1 - 1e-12);
  const init = Math.log(share / (1 - share));
  // Each column's values for the rows, and the rows in ascending order of each: sorted once.
  const values = columns.map((c) => Float64Array.from(rows, (r) => X[r * dim + c]!));
  const order = values.map((v) => Int32Array.from(v.keys()).sort((a, b) => v[a]! - v[b]! || a - b));
  const score = new Float64Array(n).fill(init);
  const residual = new Float64Array(n);
  const hessian = new Float64Array(n);
  const nodeOf = new Int32Array(n);
  const trees: Tree[] = [];
  for (let t = 0; t < BOOSTING.trees; t += 1) {
    for (let i = 0; i < n; i += 1) {
      const p = 1 / (1 + Math.exp(-score[i]!));
      residual[i] = y[i]! - p;
      hessian[i] = p * (1 - p);
    }
    const tree = growTree(values, order, columns, residual, hessian, nodeOf);
    for (let i = 0; i < n; i += 1) score[i]! += tree.value[nodeOf[i]!]!;
    trees.push(tree);
  }
  return { init, trees };
}

/** One regression tree on the residuals, level by level; leaves `nodeOf` holding each row's leaf. */
function growTree(
  values: Float64Array[],
  order: Int32Array[],
  columns: readonly number[],
  residual: Float64Array,
  hessian: Float64Array,
  nodeOf: Int32Array,
): Tree {
  const n = residual.length;
  const tree: Tree = { column: [-1], value: [0], left: [0] };
  nodeOf.fill(0);
  let level = [0];
  const maxNodes = 2 ** (BOOSTING.depth + 1);
  const count = new Float64Array(maxNodes);
  const sum = new Float64Array(maxNodes);
  const leftCount = new Float64Array(maxNodes);
  const leftSum = new Float64Array(maxNodes);
  const last = new Float64Array(maxNodes);
  const bestGain = new Float64Array(maxNodes);
  const bestColumn = new Int32Array(maxNodes);
  const bestThreshold = new Float64Array(maxNodes);
  for (let depth = 0; depth < BOOSTING.depth && level.length > 0; depth += 1) {
    const open = new Uint8Array(maxNodes);
    for (const node of level) {
      open[node] = 1;
      count[node] = 0;
      sum[node] = 0;
      bestGain[node] = 1e-12;
      bestColumn[node] = -1;
    }
    for (let i = 0; i < n; i += 1) {
      const node = nodeOf[i]!;
      if (open[node]) {
        count[node]! += 1;
        sum[node]! += residual[i]!;
      }
    }
    for (let f = 0; f < values.length; f += 1) {
      const v = values[f]!;
      const sorted = order[f]!;
      for (const node of level) {
        leftCount[node] = 0;
        leftSum[node] = 0;
      }
      for (let k = 0; k < n; k += 1) {
        const i = sorted[k]!;
        const node = nodeOf[i]!;
        if (!open[node]) continue;
        const x = v[i]!;
        const nl = leftCount[node]!;
        if (nl > 0 && x > last[node]!) {
          // Squared-error reduction of the split, as scikit-learn's friedman_mse ranks them.
          const sl = leftSum[node]!;
          const nr = count[node]! - nl;
          const sr = sum[node]! - sl;
          const gain = (sl * sl) / nl + (sr * sr) / nr - (sum[node]! * sum[node]!) / count[node]!;
          if (gain > bestGain[node]!) {
            bestGain[node] = gain;
            bestColumn[node] = f;
            const middle = last[node]! + (x - last[node]!) / 2;
            bestThreshold[node] = middle < x ? middle : last[node]!;
          }
        }
        leftCount[node] = nl + 1;
        leftSum[node]! += residual[i]!;
        last[node] = x;
      }
    }
    const next: number[] = [];
    for (const node of level) {
      const f = bestColumn[node]!;
      if (f < 0) continue;
      const left = tree.column.length;
      tree.column[node] = columns[f]!;
      tree.value[node] = bestThreshold[node]!;
      tree.left[node] = left;
      tree.column.push(-1, -1);
      tree.value.push(0, 0);
      tree.left.push(0, 0);
      next.push(left, left + 1);
    }
    for (let i = 0; i < n; i += 1) {
      const node = nodeOf[i]!;
      const f = bestColumn[node]!;
      if (open[node] && f >= 0) nodeOf[i] = tree.left[node]! + (values[f]![i]! <= bestThreshold[node]! ? 0 : 1);
    }
    level = next;
  }
  // Newton leaf values: a step of the log loss's second-order expansion, shrunk by the rate.
  const g = new Float64Array(tree.column.length);
  const h = new Float64Array(tree.column.length);
  for (let i = 0; i < n; i += 1) {
    g[nodeOf[i]!]! += residual[i]!;
    h[nodeOf[i]!]! += hessian[i]!;
  }
  for (let node = 0; node < tree.column.length; node += 1)
    if (tree.column[node] === -1) tree.value[node] = h[node]! < 1e-150 ? 0 : (BOOSTING.learningRate * g[node]!) / h[node]!;
  return tree;
}

/** Gradient-boosted trees served beside the network (small data: stack.ts); their mean score is its last input. */
export interface TreeInput {
  models: BoostedModel[];
}

/** The models' mean score (log odds) of the row whose encoded inputs start at x[at] (the tree input itself excluded). */
export function treeInput(trees: TreeInput, x: ArrayLike<number>, at: number): number {
  let compiled = COMPILED.get(trees);
  if (!compiled) COMPILED.set(trees, (compiled = compileTrees(trees)));
  const { columns, thresholds, leaves } = compiled;
  let sum = compiled.base;
  // Branch-free steps (the comparison added as 0 or 1): the way down is data-dependent, so a
  // conditional step would mispredict about half the time (compileTrees has the figures).
  for (let t = 0, inner = 0, leaf = 0; t < compiled.trees; t += 1, inner += INNER, leaf += LEAVES) {
    let node = 1 + +(x[at + columns[inner]!]! > thresholds[inner]!);
    node = 2 * node + 1 + +(x[at + columns[inner + node]!]! > thresholds[inner + node]!);
    node = 2 * node + 1 + +(x[at + columns[inner + node]!]! > thresholds[inner + node]!);
    sum += leaves[leaf + node - INNER]!;
  }
  return sum;
}

/** Depth 3, as treeInput's three steps assume. */
const INNER = 7;
const LEAVES = 8;
const COMPILED = new WeakMap<TreeInput, CompiledTrees>();

interface CompiledTrees {
  trees: number;
  base: number;
  columns: Int32Array;
  thresholds: Float64Array;
  leaves: Float64Array;
}

/**
 * The models as one array of complete trees of depth 3, the mean folded into the leaves: a leaf
 * above the last level becomes splits that always go left (on +Infinity) down to a copy of it.
 * Served rows pay for the trees in preprocessing: in bench/forward-shapes.mjs 100 trees add a
 * fifth to the small-data forward pass on a quiet machine (0.32x against 0.38x of its reference
 * rows/s; about 0.8 µs a row), where walking them node by node (boostedScore, conditional steps)
 * added nearly half (0.26x).
 */
function compileTrees(input: TreeInput): CompiledTrees {
  const k = input.models.length;
  const count = k * input.models[0]!.trees.length;
  const columns = new Int32Array(count * INNER);
  const thresholds = new Float64Array(count * INNER).fill(Number.POSITIVE_INFINITY);
  const leaves = new Float64Array(count * LEAVES);
  const scale = 1 / k;
  let base = 0;
  let t = 0;
  for (const model of input.models) {
    base += model.init * scale;
    for (const tree of model.trees) {
      const place = (node: number, slot: number) => {
        if (slot >= INNER) leaves[t * LEAVES + slot - INNER] = tree.value[node]! * scale;
        else if (tree.column[node]! < 0) place(node, 2 * slot + 1);
        else {
          columns[t * INNER + slot] = tree.column[node]!;
          thresholds[t * INNER + slot] = tree.value[node]!;
          place(tree.left[node]!, 2 * slot + 1);
          place(tree.left[node]! + 1, 2 * slot + 2);
        }
      };
      place(0, 0);
      t += 1;
    }
  }
  return { trees: count, base, columns, thresholds, leaves };
}
