import { fitPca } from './pca.ts';
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
  // Row by row, each output summed over the input coordinates in order (the matrix read along its rows).
  const sums = new Float64Array(target);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < dims; j++) {
      const v = points[i * dims + j];
      for (let t = 0, o = j * target; t < target; t++, o++) sums[t] += v * matrix[o];
    }
    for (let t = 0; t < target; t++) out[i * target + t] = sums[t];
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
  // A point cannot be nearer to the newest chosen point than to its own chosen point when those two are ≥ 2× its
  // distance apart (triangle inequality), so most points are skipped without measuring — the result is the same as
  // measuring all. Points are kept by the chosen point that covers them (its cluster), with the cluster's farthest:
  // a whole cluster is skipped when its chosen point is that far from the newest even for its farthest point (told
  // from a partial sum of their distance, most often after a few coordinates), and the next point is the farthest of
  // the clusters' farthest (the first by index on ties, as a scan of all points finds it).
  const members: Int32Array[] = [];
  const sizes = new Int32Array(m);
  const farthestOf = new Int32Array(m).fill(-1);
  const moved = new Int32Array(n);
  // The chosen points' coordinates side by side (read in order at every step), and 4 × their cluster's farthest distance.
  const centres = new Float32Array(m * d);
  const reaches = new Float64Array(m);
  const newest = new Float64Array(d);
  // The points along the leading principal axes: the squared gaps there are a lower bound of the distance that rules
  // most clusters and members out after four numbers, where the distance itself needs most of its coordinates.
  const lead = leadingCoordinates(space, n, d);
  const axes = lead.count;
  const newestLead = new Float64Array(axes);
  const centresLead = new Float64Array(m * axes);
  // Whether a lower bound proves the distance above a limit (by more than the bound's rounding).
  const provesAbove = (bound: number, limit: number) => bound > limit * (1 + LEAD_BOUND_TOLERANCE) + lead.slack;
  // The chosen points ordered along the first principal axis: a cluster can move points only when its chosen point lies
  // within 2 × (the newest point's distance) of the newest along it, since every cluster's reach is at most 4 × that
  // squared distance (the newest was the farthest point of all). Only the chosen points in that slab are visited
  // (clusters are independent of each other, so the order they are visited in changes nothing).
  const keys = new Float64Array(m), keyed = new Int32Array(m);
  const candidates = new FarthestHeap();
  let next = random.int(n);
  for (let s = 0; s < m; s++) {
    selected[s] = next;
    const o = next * d;
    centres.set(space.subarray(o, o + d), s * d);
    for (let j = 0; j < d; j++) newest[j] = space[o + j];
    for (let l = 0; l < axes; l++) newestLead[l] = lead.values[next * axes + l];
    centresLead.set(newestLead, s * axes);
    let joined = 0;
    if (s === 0) {
      for (let i = 0; i < n; i++) {
        const gap = squaredGap(space, i * d, o, d);
        if (gap < distance[i]) distance[i] = gap;
        moved[joined++] = i;
      }
    } else {
      // Widened beyond any rounding of the bounds: a chosen point outside the slab has, along the key alone, a squared
      // gap above every reach.
      const half = Math.sqrt((4 * distance[next] + lead.slack) * (1 + LEAD_BOUND_TOLERANCE));
      const end = firstAbove(keys, s, newestLead[0] + half);
      for (let k = firstAtLeast(keys, s, newestLead[0] - half); k < end; k++) {
        const t = keyed[k];
        const reach = reaches[t];
        if (provesAbove(leadGap(centresLead, t * axes, newestLead, axes), reach)) continue;
        const to = t * d;
        let sum = 0;
        for (let j = 0; j < d; j++) {
          const diff = centres[to + j] - newest[j];
          sum += diff * diff;
          if (!(sum < reach)) break;
        }
        if (!(sum < reach)) continue;
        // Points of cluster t that the newest point covers better move to it; the rest stay, in order.
        // Members come farthest first: once the newest point is 2× a member's distance away from their chosen point,
        // it is so for every later member too, and they all stay where they are.
        const list = members[t], size = sizes[t];
        let kept = 0, e = 0;
        for (; e < size; e++) {
          const i = list[e];
          const current = distance[i];
          if (!(sum < 4 * current)) break;
          if (!provesAbove(leadGap(lead.values, i * axes, newestLead, axes), current)) {
            const gap = squaredGap(space, i * d, o, d, current);
            if (gap < current) {
              distance[i] = gap;
              assignment[i] = s;
              moved[joined++] = i;
              continue;
            }
          }
          list[kept++] = i;
        }
        if (kept < e) list.copyWithin(kept, e, size);
        kept += size - e;
        sizes[t] = kept;
        const far = kept > 0 ? list[0] : -1;
        // A farthest point that stayed in its cluster kept its distance, so its entry in the heap still holds.
        if (far >= 0 && far !== farthestOf[t]) candidates.push(distance[far], far, t);
        farthestOf[t] = far;
        reaches[t] = far < 0 ? -1 : 4 * distance[far];
      }
    }
    const at = firstAbove(keys, s, newestLead[0]);
    keys.copyWithin(at + 1, at, s);
    keyed.copyWithin(at + 1, at, s);
    keys[at] = newestLead[0];
    keyed[at] = s;
    // Farthest first, the smaller row first on ties (the order a scan of the members would pick the farthest in).
    const list = moved.slice(0, joined).sort((a, b) => distance[b] - distance[a] || a - b);
    members[s] = list;
    sizes[s] = joined;
    const far = joined > 0 ? list[0] : -1;
    farthestOf[s] = far;
    reaches[s] = far < 0 ? -1 : 4 * distance[far];
    if (far >= 0) candidates.push(distance[far], far, s);
    // The farthest of the clusters' farthest: the heap's top, once entries a cluster has since replaced are dropped.
    while (candidates.size > 0) {
      const { distance: d, row, cluster } = candidates.top();
      if (farthestOf[cluster] === row && distance[row] === d) break;
      candidates.pop();
    }
    next = candidates.size > 0 ? candidates.top().row : -1;
  }
  return { selected, assignment, distance };
}

/**
 * A max-heap of clusters' farthest points: (squared distance, row, cluster), the larger distance first, the smaller row on
 * ties (the order a scan of every cluster would pick in). Entries are never updated: a cluster whose farthest point
 * changes pushes a new entry, and `greedyCoreset` drops stale ones when they reach the top.
 */
class FarthestHeap {
  private distances = new Float64Array(1024);
  private rows = new Int32Array(1024);
  private clusters = new Int32Array(1024);
  size = 0;

  push(distance: number, row: number, cluster: number): void {
    if (this.size === this.rows.length) this.grow();
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(distance, row, this.distances[parent], this.rows[parent])) break;
      this.place(at, this.distances[parent], this.rows[parent], this.clusters[parent]);
      at = parent;
    }
    this.place(at, distance, row, cluster);
  }

  top(): { distance: number; row: number; cluster: number } {
    return { distance: this.distances[0], row: this.rows[0], cluster: this.clusters[0] };
  }

  pop(): void {
    const last = --this.size;
    const distance = this.distances[last], row = this.rows[last], cluster = this.clusters[last];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= last) break;
      if (child + 1 < last && this.before(this.distances[child + 1], this.rows[child + 1], this.distances[child], this.rows[child])) child++;
      if (!this.before(this.distances[child], this.rows[child], distance, row)) break;
      this.place(at, this.distances[child], this.rows[child], this.clusters[child]);
      at = child;
    }
    if (last > 0) this.place(at, distance, row, cluster);
  }

  /** Whether entry (d1, r1) comes out before (d2, r2). */
  private before(d1: number, r1: number, d2: number, r2: number): boolean {
    return d1 > d2 || (d1 === d2 && r1 < r2);
  }

  private place(at: number, distance: number, row: number, cluster: number): void {
    this.distances[at] = distance;
    this.rows[at] = row;
    this.clusters[at] = cluster;
  }

  private grow(): void {
    const length = this.rows.length * 2;
    const distances = new Float64Array(length), rows = new Int32Array(length), clusters = new Int32Array(length);
    distances.set(this.distances);
    rows.set(this.rows);
    clusters.set(this.clusters);
    this.distances = distances;
    this.rows = rows;
    this.clusters = clusters;
  }
}

/**
 * The rows' coordinates along the leading principal axes of `space` (centred, float64). Along orthonormal axes the
 * squared differences sum to at most the squared distance, and the leading axes carry most of it: a lower bound that
 * rules out most candidates after a few coordinates, where the distance itself needs most of them. `slack` covers the
 * rounding of those coordinates, so that a bound above a limit by more than it proves the distance above it too.
 */
function leadingCoordinates(space: Float32Array, n: number, d: number): { values: Float64Array; count: number; slack: number } {
  const count = Math.min(d, LEADING_AXES);
  const pca = fitPca(space, d, 20000);
  // Each axis normalised again in float64: the components are stored in float32, so they are unit and orthogonal only
  // to about 1e-7, which LEAD_BOUND_TOLERANCE covers.
  const axes = new Float64Array(count * d);
  for (let l = 0; l < count; l++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += pca.components[l * d + j] ** 2;
    for (let j = 0; j < d; j++) axes[l * d + j] = pca.components[l * d + j] / Math.sqrt(norm);
  }
  const values = new Float64Array(n * count), centred = new Float64Array(d);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) { centred[j] = space[i * d + j] - pca.mean[j]; norm += centred[j] * centred[j]; }
    largest = Math.max(largest, norm);
    for (let l = 0; l < count; l++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += axes[l * d + j] * centred[j];
      values[i * count + l] = v;
    }
  }
  return { values, count, slack: 1e-9 * (1 + largest) };
}

/**
 * How far, relatively, the bound along the leading axes may exceed the distance: four unit axes orthogonal to 1.2e-7
 * (float32 components) make it at most (1 + 3.6e-7) times the squared distance.
 */
const LEAD_BOUND_TOLERANCE = 1e-6;

/** How many leading principal axes `leadingCoordinates` keeps. */
const LEADING_AXES = 4;

/** The squared difference of a row's leading coordinates (at `at`) and the newest point's. */
function leadGap(values: Float64Array, at: number, newest: Float64Array, count: number): number {
  let sum = 0;
  for (let l = 0; l < count; l++) {
    const diff = values[at + l] - newest[l];
    sum += diff * diff;
  }
  return sum;
}

/** First index of the sorted `values[0…count)` whose value is ≥ `bound` (count when none is). */
function firstAtLeast(values: Float64Array, count: number, bound: number): number {
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < bound) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** First index of the sorted `values[0…count)` whose value is > `bound` (count when none is). */
function firstAbove(values: Float64Array, count: number, bound: number): number {
  let lo = 0, hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= bound) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * Squared distance between rows at `a` and `b` of `space` (`d` values each), summed in order, when it is below `limit`;
 * otherwise some partial sum of it that is not (summing stops there, four coordinates at a time: most points a new chosen
 * point reaches stay with their own).
 */
function squaredGap(space: Float32Array, a: number, b: number, d: number, limit = Infinity): number {
  let sum = 0, j = 0;
  for (; j + 4 <= d; j += 4) {
    const d0 = space[a + j] - space[b + j], d1 = space[a + j + 1] - space[b + j + 1];
    const d2 = space[a + j + 2] - space[b + j + 2], d3 = space[a + j + 3] - space[b + j + 3];
    sum += d0 * d0;
    sum += d1 * d1;
    sum += d2 * d2;
    sum += d3 * d3;
    if (!(sum < limit)) return sum;
  }
  for (; j < d; j++) {
    const diff = space[a + j] - space[b + j];
    sum += diff * diff;
  }
  return sum;
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
