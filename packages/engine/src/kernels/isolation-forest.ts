import { Random } from './random.ts';

/**
 * Isolation forest (Liu, Ting & Zhou, 2008): random axis-aligned splits isolate rare points in few steps.
 * Each tree is grown on a subsample of `maxSamples` points to depth ⌈log2 maxSamples⌉; a point's path length
 * is its depth plus c(size) for the points left with it in its leaf, and its anomaly score is
 * 2^(−E[h(x)] / c(maxSamples)): about 0.5 for ordinary points, towards 1 for isolated ones.
 * Trees are flat typed arrays so that a forest is a few arrays in a model blob.
 */
export interface IsolationForest {
  [key: string]: number | Float32Array | Int32Array;
  dims: number;
  trees: number;
  /** Points each tree was grown on (the ψ of c(ψ)). */
  samplesPerTree: number;
  /** First node of each tree in the node arrays. */
  treeStart: Int32Array;
  /** Split feature, or −1 for a leaf. */
  feature: Int32Array;
  /** Split value (left: x[feature] < threshold); for a leaf, c(size) of its points. */
  threshold: Float32Array;
  /** Left child (the right child is left + 1); unused for leaves. */
  left: Int32Array;
}

const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search in a binary search tree of n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  const harmonic = Math.log(n - 1) + EULER_GAMMA;
  return 2 * harmonic - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  trees: number;
  maxSamples?: number;
  seed: number;
  /** Called now and then during the work; throws to stop it (e.g. when training is cancelled). */
  checkAbort?: () => void;
  onTree?: (done: number) => void;
}

/** Grows a forest on n points of `dims` features (row-major `data`). */
export function fitIsolationForest(data: Float32Array, dims: number, options: IsolationForestOptions): IsolationForest {
  const n = data.length / dims;
  const random = new Random(options.seed);
  const samplesPerTree = Math.min(options.maxSamples ?? 256, n);
  const maxDepth = Math.ceil(Math.log2(Math.max(2, samplesPerTree)));
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const treeStart = new Int32Array(options.trees);
  const lo = new Float64Array(dims), hi = new Float64Array(dims);
  const candidates: number[] = [];

  for (let t = 0; t < options.trees; t++) {
    options.checkAbort?.();
    treeStart[t] = feature.length;
    const indices = Int32Array.from(random.sample(n, samplesPerTree));
    // Breadth-first so that each node's two children are adjacent: [node, start, end, depth].
    const queue: [number, number, number, number][] = [];
    const push = (start: number, end: number, depth: number): number => {
      const id = feature.length;
      feature.push(-1); threshold.push(0); left.push(-1);
      queue.push([id, start, end, depth]);
      return id;
    };
    push(0, indices.length, 0);
    for (let q = 0; q < queue.length; q++) {
      const [id, start, end, depth] = queue[q];
      const size = end - start;
      if (depth >= maxDepth || size <= 1) {
        threshold[id] = averagePathLength(size);
        continue;
      }
      lo.fill(Infinity); hi.fill(-Infinity);
      for (let i = start; i < end; i++) {
        const o = indices[i] * dims;
        for (let k = 0; k < dims; k++) {
          const v = data[o + k];
          if (v < lo[k]) lo[k] = v;
          if (v > hi[k]) hi[k] = v;
        }
      }
      candidates.length = 0;
      for (let k = 0; k < dims; k++) if (hi[k] > lo[k]) candidates.push(k);
      if (candidates.length === 0) {
        // All points equal: they cannot be separated further.
        threshold[id] = averagePathLength(size);
        continue;
      }
      const k = candidates[random.int(candidates.length)];
      // Stored as float32, so the split is rounded before partitioning; data values are float32 already.
      let split = Math.fround(lo[k] + random.next() * (hi[k] - lo[k]));
      if (split <= lo[k] || split > hi[k]) split = hi[k];
      // Partition indices[start, end) by x[k] < split.
      let i = start, j = end - 1;
      while (i <= j) {
        if (data[indices[i] * dims + k] < split) i++;
        else { const s = indices[i]; indices[i] = indices[j]; indices[j] = s; j--; }
      }
      feature[id] = k;
      threshold[id] = split;
      left[id] = push(start, i, depth + 1);
      push(i, end, depth + 1);
    }
    options.onTree?.(t + 1);
  }
  return {
    dims, trees: options.trees, samplesPerTree, treeStart,
    feature: Int32Array.from(feature), threshold: Float32Array.from(threshold), left: Int32Array.from(left),
  };
}

/** E[h(x)]: mean path length of each point over the trees. */
export function meanPathLengths(forest: IsolationForest, data: Float32Array): Float64Array {
  const { dims, feature, threshold, left, treeStart } = forest;
  const n = data.length / dims;
  const out = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const o = p * dims;
    let total = 0;
    for (let t = 0; t < forest.trees; t++) {
      let node = treeStart[t];
      let depth = 0;
      while (feature[node] >= 0) {
        node = data[o + feature[node]] < threshold[node] ? left[node] : left[node] + 1;
        depth++;
      }
      total += depth + threshold[node];
    }
    out[p] = total / forest.trees;
  }
  return out;
}

/** Anomaly scores 2^(−E[h(x)] / c(ψ)) of each row of `data`. */
export function isolationScores(forest: IsolationForest, data: Float32Array): Float32Array {
  const lengths = meanPathLengths(forest, data);
  const norm = averagePathLength(forest.samplesPerTree) || 1;
  const out = new Float32Array(lengths.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.pow(2, -lengths[i] / norm);
  return out;
}
