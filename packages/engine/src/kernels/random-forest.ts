import { Random } from './random.ts';

/**
 * Random forest of binary classification trees (Breiman, 2001): each tree is grown on a bootstrap sample,
 * each split chosen among √dims random features by weighted Gini impurity. Splits are searched on
 * per-feature quantile bins (as LightGBM and scikit-learn's HistGradientBoosting do), so a node costs one
 * pass over its points per candidate feature instead of a sort; thresholds are kept in feature units, so
 * prediction reads raw features. The forest's output is the mean over trees of the leaves' class-1 share.
 */
export interface RandomForest {
  [key: string]: number | Float32Array | Int32Array;
  dims: number;
  trees: number;
  treeStart: Int32Array;
  /** Split feature, or −1 for a leaf. */
  feature: Int32Array;
  /** Left: x[feature] < threshold. */
  threshold: Float32Array;
  /** Left child (the right child is left + 1). */
  left: Int32Array;
  /** Leaf: weighted share of class 1 among its training points. */
  value: Float32Array;
}

export interface RandomForestOptions {
  trees: number;
  seed: number;
  maxDepth?: number;
  minLeaf?: number;
  featuresPerSplit?: number;
  bins?: number;
  /** Called now and then during the work; throws to stop it (e.g. when training is cancelled). */
  checkAbort?: () => void;
  onTree?: (done: number) => void;
}

/** Ascending distinct cut points of one feature: up to bins − 1 quantiles of its values. */
function quantileEdges(data: Float32Array, dims: number, k: number, bins: number): Float32Array {
  const n = data.length / dims;
  const stride = Math.max(1, Math.floor(n / 20000));
  const values: number[] = [];
  for (let i = 0; i < n; i += stride) values.push(data[i * dims + k]);
  values.sort((a, b) => a - b);
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = values[Math.floor((b * values.length) / bins)];
    // A cut at the smallest value would leave its left side empty.
    if (v > values[0] && (edges.length === 0 || v > edges[edges.length - 1])) edges.push(v);
  }
  return Float32Array.from(edges);
}

/** Bin of a value: the number of edges ≤ value. */
function binOf(edges: Float32Array, value: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Grows a forest on n rows of `dims` features with labels 0/1 and optional weights (e.g. to balance
 * classes).
 */
export function fitRandomForest(
  data: Float32Array, dims: number, labels: Uint8Array, weights: Float32Array | null, options: RandomForestOptions,
): RandomForest {
  const n = labels.length;
  const random = new Random(options.seed);
  const maxDepth = options.maxDepth ?? 16;
  const minLeaf = options.minLeaf ?? 2;
  const mtry = Math.min(dims, options.featuresPerSplit ?? Math.max(1, Math.round(Math.sqrt(dims))));
  const binCount = Math.min(255, options.bins ?? 32);
  const edges = Array.from({ length: dims }, (_, k) => quantileEdges(data, dims, k, binCount));
  const binned = new Uint8Array(n * dims);
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) binned[i * dims + k] = binOf(edges[k], data[i * dims + k]);
  const w = weights ?? new Float32Array(n).fill(1);

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const value: number[] = [];
  const treeStart = new Int32Array(options.trees);
  const h0 = new Float64Array(binCount), h1 = new Float64Array(binCount), hc = new Int32Array(binCount);
  const featureOrder = Array.from({ length: dims }, (_, k) => k);

  for (let t = 0; t < options.trees; t++) {
    options.checkAbort?.();
    treeStart[t] = feature.length;
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = random.int(n);
    const queue: [number, number, number, number][] = [];
    const push = (start: number, end: number, depth: number): number => {
      const id = feature.length;
      feature.push(-1); threshold.push(0); left.push(-1); value.push(0);
      queue.push([id, start, end, depth]);
      return id;
    };
    push(0, n, 0);
    for (let q = 0; q < queue.length; q++) {
      const [id, start, end, depth] = queue[q];
      let w0 = 0, w1 = 0;
      for (let i = start; i < end; i++) {
        const s = indices[i];
        if (labels[s]) w1 += w[s]; else w0 += w[s];
      }
      value[id] = w0 + w1 > 0 ? w1 / (w0 + w1) : 0;
      if (depth >= maxDepth || end - start < 2 * minLeaf || w0 === 0 || w1 === 0) continue;
      const parentImpurity = (2 * w0 * w1) / (w0 + w1);
      let bestScore = parentImpurity - 1e-12, bestFeature = -1, bestBin = -1;
      // A random subset of features: a partial Fisher–Yates shuffle.
      for (let f = 0; f < mtry; f++) {
        const r = f + random.int(dims - f);
        [featureOrder[f], featureOrder[r]] = [featureOrder[r], featureOrder[f]];
        const k = featureOrder[f];
        const bins = edges[k].length + 1;
        if (bins < 2) continue;
        h0.fill(0, 0, bins); h1.fill(0, 0, bins); hc.fill(0, 0, bins);
        for (let i = start; i < end; i++) {
          const s = indices[i];
          const b = binned[s * dims + k];
          hc[b]++;
          if (labels[s]) h1[b] += w[s]; else h0[b] += w[s];
        }
        let l0 = 0, l1 = 0, lc = 0;
        const count = end - start;
        for (let b = 1; b < bins; b++) {
          l0 += h0[b - 1]; l1 += h1[b - 1]; lc += hc[b - 1];
          if (lc < minLeaf) continue;
          if (count - lc < minLeaf) break;
          const r0 = w0 - l0, r1 = w1 - l1;
          const lw = l0 + l1, rw = r0 + r1;
          if (lw <= 0 || rw <= 0) continue;
          const score = (2 * l0 * l1) / lw + (2 * r0 * r1) / rw;
          if (score < bestScore) { bestScore = score; bestFeature = k; bestBin = b; }
        }
      }
      if (bestFeature < 0) continue;
      let i = start, j = end - 1;
      while (i <= j) {
        if (binned[indices[i] * dims + bestFeature] < bestBin) i++;
        else { const s = indices[i]; indices[i] = indices[j]; indices[j] = s; j--; }
      }
      feature[id] = bestFeature;
      threshold[id] = edges[bestFeature][bestBin - 1];
      left[id] = push(start, i, depth + 1);
      push(i, end, depth + 1);
    }
    options.onTree?.(t + 1);
  }
  return {
    dims, trees: options.trees, treeStart,
    feature: Int32Array.from(feature), threshold: Float32Array.from(threshold), left: Int32Array.from(left),
    value: Float32Array.from(value),
  };
}

/** Mean class-1 share of the leaves each row reaches. */
export function forestProbabilities(forest: RandomForest, data: Float32Array): Float32Array {
  const { dims, feature, threshold, left, value, treeStart } = forest;
  const n = data.length / dims;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const o = p * dims;
    let total = 0;
    for (let t = 0; t < forest.trees; t++) {
      let node = treeStart[t];
      while (feature[node] >= 0) node = data[o + feature[node]] < threshold[node] ? left[node] : left[node] + 1;
      total += value[node];
    }
    out[p] = total / forest.trees;
  }
  return out;
}
