import { Random } from './random.ts';

/**
 * Greedy k-center coreset (as PatchCore subsamples its memory bank): start from one point, then keep
 * adding the point farthest from everything chosen so far. The chosen points cover the whole set with
 * the smallest radius greedy can find (within 2× of optimal), so rare but normal patches stay in the bank,
 * which a random sample would drop.
 *
 * Distances may be measured in a random projection to `projectTo` dimensions (Johnson–Lindenstrauss):
 * the cost is O(n · m · projectTo) instead of O(n · m · dims).
 */
export interface CoresetOptions {
  seed?: number;
  /** Measure distances in a random projection of this many dimensions (no projection when ≥ dims). */
  projectTo?: number;
}

export interface Coreset {
  /** Chosen rows, in the order chosen. */
  selected: Int32Array;
  /** For every input row: which entry of `selected` covers it (its nearest chosen point). */
  assignment: Int32Array;
  /** For every input row: its squared distance to that point (in the space the coreset was built in). */
  distance: Float32Array;
}

/** A dims × target Gaussian random projection, scaled to keep distances on average. */
export function randomProjection(points: Float32Array, dims: number, target: number, random: Random): Float32Array {
  const n = points.length / dims;
  const matrix = new Float32Array(dims * target);
  const scale = 1 / Math.sqrt(target);
  for (let i = 0; i < matrix.length; i++) matrix[i] = random.normal() * scale;
  const out = new Float32Array(n * target);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < target; t++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += points[i * dims + j] * matrix[j * target + t];
      out[i * target + t] = s;
    }
  }
  return out;
}

export function greedyCoreset(points: Float32Array, dims: number, count: number, options: CoresetOptions = {}): Coreset {
  const random = new Random(options.seed ?? 0);
  const n = points.length / dims;
  const m = Math.max(1, Math.min(count, n));
  let space = points, d = dims;
  if (options.projectTo && options.projectTo < dims) {
    space = randomProjection(points, dims, options.projectTo, random);
    d = options.projectTo;
  }
  const selected = new Int32Array(m);
  const assignment = new Int32Array(n);
  const distance = new Float32Array(n).fill(Infinity);
  // Squared distances from the newest chosen point to every chosen point: a point cannot be nearer to the
  // newest than to its own chosen point when those two are ≥ 2× its distance apart (triangle inequality),
  // so most points are skipped without measuring — the result is the same as measuring all.
  const between = new Float64Array(m);
  let next = random.int(n);
  for (let s = 0; s < m; s++) {
    selected[s] = next;
    const o = next * d;
    for (let t = 0; t < s; t++) {
      let sum = 0;
      const to = selected[t] * d;
      for (let j = 0; j < d; j++) {
        const diff = space[to + j] - space[o + j];
        sum += diff * diff;
      }
      between[t] = sum;
    }
    let farthest = -1, farthestDistance = -1;
    for (let i = 0; i < n; i++) {
      const current = distance[i];
      if (s === 0 || between[assignment[i]] < 4 * current) {
        let sum = 0;
        const io = i * d;
        for (let j = 0; j < d; j++) {
          const diff = space[io + j] - space[o + j];
          sum += diff * diff;
        }
        if (sum < current) {
          distance[i] = sum;
          assignment[i] = s;
        }
      }
      if (distance[i] > farthestDistance) {
        farthestDistance = distance[i];
        farthest = i;
      }
    }
    next = farthest;
  }
  return { selected, assignment, distance };
}

/** The slow, obvious version (no projection): recompute every point's distance to the whole chosen set. */
export function bruteForceCoreset(points: Float32Array, dims: number, count: number, first: number): Int32Array {
  const n = points.length / dims;
  const m = Math.min(count, n);
  const chosen = [first];
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < dims; j++) s += (points[a * dims + j] - points[b * dims + j]) ** 2;
    return s;
  };
  while (chosen.length < m) {
    let best = -1, bestDistance = -1;
    for (let i = 0; i < n; i++) {
      const nearest = Math.min(...chosen.map((c) => dist(i, c)));
      if (nearest > bestDistance) { bestDistance = nearest; best = i; }
    }
    chosen.push(best);
  }
  return Int32Array.from(chosen);
}
