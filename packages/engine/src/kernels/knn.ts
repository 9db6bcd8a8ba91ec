import { leafScanner, type LeafScanner } from './knn-scan.ts';
import { fitPca } from './pca.ts';
import { squaredDistance } from './vector.ts';

/**
 * Exact k-nearest-neighbour search (squared Euclidean distance) over a fixed set of points: a k-d tree.
 *
 * Each inner node splits its points at the median of the coordinate along which they vary most, and
 * keeps the largest value on its left and the smallest on its right; leaves hold a few points, stored
 * contiguously. A query descends to the nearer side first, and visits the farther side only when the
 * distance from the query to that side's region (kept incrementally, one coordinate per split, as Arya and
 * Mount do) is below its k-th best distance so far. Nothing is approximate: the answers equal brute force
 * (`bruteForceKnn`). Patch descriptors have few effective dimensions (their principal components fall off
 * fast), so the splits fall on the leading coordinates and prune well; inside a leaf a distance is summed
 * only until it passes the k-th best, which those leading coordinates also make short. Points whose variance
 * is not in their leading coordinates (standardised features) are searched on their principal axes instead, and
 * measured in their own coordinates before they are taken (see `Rotation`).
 *
 * Points are rows of `dims` float32 values.
 */
export interface KnnIndex {
  [key: string]: number | Float32Array | Int32Array;
  dims: number;
  size: number;
  /** The points, reordered so that each leaf's members are contiguous. */
  points: Float32Array;
  /** Original row of each reordered point. */
  ids: Int32Array;
  /** Per node: the split coordinate, or −1 for a leaf. Node 0 is the root. */
  splitDim: Int32Array;
  /** Inner node: largest split coordinate on the left, smallest on the right. */
  leftMax: Float32Array;
  rightMin: Float32Array;
  /** Inner node: its children; leaf: its reordered points [first, second). */
  first: Int32Array;
  second: Int32Array;
}

export interface KnnResult {
  /** k rows per query: original point indices, nearest first (−1 when there are fewer than k points). */
  indices: Int32Array;
  /** Squared distances, same layout. */
  distances: Float32Array;
}

/** Points per leaf. */
const DEFAULT_LEAF_SIZE = 8;

/**
 * Builds the index (deterministic: splits at medians, ties broken by row). `leafSize` bounds the points
 * of a leaf.
 */
export function buildKnnIndex(points: Float32Array, dims: number, options: { leafSize?: number } = {}): KnnIndex {
  const size = points.length / dims;
  if (!Number.isInteger(size)) throw new Error('points.length must be a multiple of dims');
  const leafSize = Math.max(1, options.leafSize ?? DEFAULT_LEAF_SIZE);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  const capacity = Math.max(1, 2 * Math.ceil(size / Math.max(1, leafSize >> 1)) + 1);
  const splitDim = new Int32Array(capacity).fill(-1);
  const leftMax = new Float32Array(capacity), rightMin = new Float32Array(capacity);
  const first = new Int32Array(capacity), second = new Int32Array(capacity);
  let nodes = 0;
  const build = (lo: number, hi: number): number => {
    const node = nodes++;
    first[node] = lo;
    second[node] = hi;
    if (hi - lo <= leafSize) return node;
    let dim = -1, largest = 0;
    // The coordinate of largest variance (measured: 5–12 % faster searches on patch banks than the largest range).
    for (let j = 0; j < dims; j++) {
      let sum = 0, sumSq = 0;
      for (let r = lo; r < hi; r++) {
        const v = points[order[r] * dims + j];
        sum += v;
        sumSq += v * v;
      }
      const variance = sumSq / (hi - lo) - (sum / (hi - lo)) ** 2;
      if (variance > largest) { largest = variance; dim = j; }
    }
    if (dim < 0) return node; // all points equal: one leaf
    const part = order.subarray(lo, hi);
    part.sort((a, b) => points[a * dims + dim] - points[b * dims + dim] || a - b);
    const mid = (lo + hi) >> 1;
    splitDim[node] = dim;
    leftMax[node] = points[order[mid - 1] * dims + dim];
    rightMin[node] = points[order[mid] * dims + dim];
    first[node] = build(lo, mid);
    second[node] = build(mid, hi);
    return node;
  };
  if (size > 0) build(0, size);
  const reordered = new Float32Array(size * dims);
  for (let r = 0; r < size; r++) reordered.set(points.subarray(order[r] * dims, order[r] * dims + dims), r * dims);
  return {
    dims, size, points: reordered, ids: order,
    splitDim: splitDim.slice(0, nodes), leftMax: leftMax.slice(0, nodes), rightMin: rightMin.slice(0, nodes),
    first: first.slice(0, nodes), second: second.slice(0, nodes),
  };
}

/**
 * A search scans a subtree of at most this many points whole, as one leaf: a point rejected after its four leading
 * coordinates costs less than visiting the nodes that might have skipped it (PS banks of 4000 patches: 20–25 % less
 * search time than descending to the stored leaves of 8). The answer is the same: only pruning is traded for scanning.
 * The WebAssembly scan rejects four points at a time, so it scans subtrees twice as large (magnetic-tile and deeppcb
 * banks of 7 600–8 000: 12–14 % less search time than at 32; 128 is no better).
 */
const SCAN_SIZE = 32;
const WASM_SCAN_SIZE = 64;

/**
 * What searches derive from an index, once per index and kept while the index lives (a model's index serves every
 * image it inspects): each point's reordered row, each node's range of reordered rows (the tree keeps each subtree's
 * points contiguous), and, for points whose variance is not in their leading coordinates, the same points on their
 * principal axes (see `Rotation`).
 */
interface SearchPlan {
  inverse: Int32Array;
  start: Int32Array;
  end: Int32Array;
  rotation: Rotation | null;
  /** The leaf scan in WebAssembly, for an index searched in its own coordinates (none for a few points: not worth a memory). */
  scanner: LeafScanner | null;
}

/** Indices of fewer points are scanned in JavaScript. */
const WASM_SCAN_MIN_SIZE = 256;

/**
 * The index's points turned onto their principal axes, in a tree of their own. A tree prunes well and a distance is
 * rejected after a few coordinates only when the leading coordinates carry most of the variance; standardised
 * features (each of variance 1) do not, and were searched about four times slower than the same points turned.
 * Turned points are only a guide: a point is measured in the index's own coordinates before it is taken, and the
 * guide prunes only by margins far wider than its rounding (`ROTATION_TOLERANCE`), so the answers stay those of the
 * index's own coordinates.
 */
interface Rotation {
  mean: Float64Array;
  /** dims × dims, row c the c-th principal axis. */
  axes: Float64Array;
  tree: KnnIndex;
  start: Int32Array;
  end: Int32Array;
  /** Largest norm of a turned point. */
  radius: number;
}

/**
 * Turned points are stored as float32 (each coordinate within 2⁻²⁴ of its value relative) and the axes are orthonormal
 * to about 1e-15: a distance measured on them is within about 6e-8 × (norm of the query + `radius`) of the true one.
 */
const ROTATION_TOLERANCE = 1e-6;

const plans = new WeakMap<KnnIndex, SearchPlan>();
function searchPlan(index: KnnIndex, mayRotate = true): SearchPlan {
  let plan = plans.get(index);
  if (plan) return plan;
  const { splitDim, first, second, size, ids } = index;
  const inverse = new Int32Array(size);
  for (let r = 0; r < size; r++) inverse[ids[r]] = r;
  const nodes = splitDim.length;
  const start = new Int32Array(nodes), end = new Int32Array(nodes);
  // Children always come after their parent: fill from the last node back.
  for (let node = nodes - 1; node >= 0; node--) {
    if (splitDim[node] < 0) {
      start[node] = first[node];
      end[node] = second[node];
    } else {
      start[node] = start[first[node]];
      end[node] = end[second[node]];
    }
  }
  const rotation = mayRotate ? rotationOf(index) : null;
  const scanner = !rotation && index.dims >= 4 && size >= WASM_SCAN_MIN_SIZE ? scannerOrNone(index) : null;
  plan = { inverse, start, end, rotation, scanner };
  plans.set(index, plan);
  return plan;
}

/** The index's WebAssembly leaf scan, or none where its memory cannot be had (the JavaScript scan gives the same answers). */
function scannerOrNone(index: KnnIndex): LeafScanner | null {
  try {
    return leafScanner(index.points, index.dims);
  } catch (error) {
    if (error instanceof RangeError) return null; // a memory beyond what WebAssembly or the machine allows
    throw error;
  }
}

/**
 * The index's points on their principal axes, when the four leading axes carry clearly more of the variance than the
 * four leading coordinates do (PS's memory bank is already on its principal axes: none there); else null.
 */
function rotationOf(index: KnnIndex): Rotation | null {
  const { dims, size, points } = index;
  if (dims < 8 || size < 256) return null;
  const lead = 4;
  const variances = new Float64Array(dims), means = new Float64Array(dims);
  for (let r = 0; r < size; r++) for (let j = 0; j < dims; j++) means[j] += points[r * dims + j];
  for (let j = 0; j < dims; j++) means[j] /= size;
  for (let r = 0; r < size; r++) for (let j = 0; j < dims; j++) variances[j] += (points[r * dims + j] - means[j]) ** 2;
  const total = variances.reduce((s, v) => s + v, 0);
  const leadShare = variances.subarray(0, lead).reduce((s, v) => s + v, 0) / total;
  if (!(total > 0) || leadShare >= 0.5) return null;
  const pca = fitPca(points, dims);
  const axesShare = pca.variances.subarray(0, lead).reduce((s, v) => s + v, 0) / pca.variances.reduce((s, v) => s + v, 0);
  if (!(axesShare > 1.25 * leadShare)) return null;
  const mean = Float64Array.from(pca.mean), axes = Float64Array.from(pca.components);
  const turned = new Float32Array(size * dims);
  let radius = 0;
  for (let r = 0; r < size; r++) {
    turn(points, r * dims, mean, axes, dims, turned, r * dims);
    let norm = 0;
    for (let c = 0; c < dims; c++) norm += turned[r * dims + c] ** 2;
    radius = Math.max(radius, Math.sqrt(norm));
  }
  // Rows of `turned` are the index's reordered rows: the turned tree's ids are reordered rows of the index.
  const tree = buildKnnIndex(turned, dims);
  const { start, end } = searchPlan(tree, false);
  return { mean, axes, tree, start, end, radius };
}

/** `out[o…o+dims)` = the axes times (`from[f…f+dims)` − mean). */
function turn(from: ArrayLike<number>, f: number, mean: Float64Array, axes: Float64Array, dims: number, out: Float32Array | Float64Array, o: number): void {
  for (let c = 0; c < dims; c++) {
    let sum = 0;
    for (let j = 0, a = c * dims; j < dims; j++, a++) sum += axes[a] * (from[f + j] - mean[j]);
    out[o + c] = sum;
  }
}

/**
 * A point's squared distance to the query from its fifth coordinate on, added to `sum` (that of the first four) four
 * coordinates at a time, and only until it reaches `limit`.
 */
function restOfDistance(query: Float64Array, points: Float32Array, po: number, dims: number, sum: number, limit: number): number {
  let j = 4;
  while (sum < limit && j < dims) {
    const stop = j + 4 < dims ? j + 4 : dims;
    for (; j < stop; j++) {
      const diff = query[j] - points[po + j];
      sum += diff * diff;
    }
  }
  return sum;
}

/**
 * A reusable searcher (scratch buffers sized once). `search` answers one query; `hints` are original
 * point indices to try first (e.g. the previous query's answer: neighbouring patches match similar points),
 * which tightens the bound early without changing the answer.
 */
export class KnnSearcher {
  readonly index: KnnIndex;
  readonly k: number;
  /** k best of the current query: reordered rows and squared distances, nearest first. */
  readonly rows: Int32Array;
  readonly best: Float64Array;
  private readonly inverse: Int32Array;
  private readonly query: Float64Array;
  /** Per coordinate: the query's distance to the region of the node being visited along it. */
  private readonly offsets: Float64Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  /** The tree the search descends: the index's own, or its points turned onto their principal axes. */
  private readonly tree: KnnIndex;
  private readonly rotation: Rotation | null;
  private readonly scanner: LeafScanner | null;
  private readonly scanSize: number;
  /** Prunes in the tree's coordinates: the k-th best squared distance, widened by the rotation's tolerance. */
  private limit = Infinity;
  private tolerance = 0;
  /** The current query as given (its row of `queries`), for measuring in the index's own coordinates. */
  private queries: Float32Array = new Float32Array(0);
  private queryOffset = 0;
  private excludedRow = -1;
  /** Distances computed by the last query (a measure of the work pruning saved). */
  evaluated = 0;
  /** Points (original indices) the searches pass over, as if they were not in the index; null: none. */
  skip: ((id: number) => boolean) | null = null;

  constructor(index: KnnIndex, k: number) {
    this.index = index;
    this.k = Math.max(1, k);
    this.rows = new Int32Array(this.k);
    this.best = new Float64Array(this.k);
    const plan = searchPlan(index);
    this.inverse = plan.inverse;
    this.rotation = plan.rotation;
    this.tree = this.rotation?.tree ?? index;
    this.start = this.rotation?.start ?? plan.start;
    this.end = this.rotation?.end ?? plan.end;
    this.scanner = plan.scanner;
    this.scanSize = this.scanner ? WASM_SCAN_SIZE : SCAN_SIZE;
    // The scanner reads the query from its own memory: written there directly (one search at a time per index).
    this.query = this.scanner?.query ?? new Float64Array(index.dims);
    this.offsets = new Float64Array(index.dims);
  }

  private offer(row: number, distance: number): void {
    const { rows, best, k } = this;
    if (!(distance < best[k - 1])) return;
    for (let j = 0; j < k; j++) if (rows[j] === row) return;
    if (this.skip !== null && this.skip(this.index.ids[row])) return;
    let j = k - 1;
    while (j > 0 && best[j - 1] > distance) {
      best[j] = best[j - 1];
      rows[j] = rows[j - 1];
      j--;
    }
    best[j] = distance;
    rows[j] = row;
    const kth = best[k - 1];
    this.limit = this.rotation ? (Math.sqrt(kth) + this.tolerance) ** 2 : kth;
  }

  /** Every point of a leaf, each distance summed only until it passes the k-th best. */
  private scanLeaf(start: number, end: number): void {
    if (this.index.dims < 4) {
      this.scanShortLeaf(start, end);
      return;
    }
    const excluded = this.excludedRow;
    this.evaluated += end - start - (excluded >= start && excluded < end ? 1 : 0);
    const { scanner, best, k } = this;
    if (!scanner) {
      this.scanLeafInJs(start, end);
      return;
    }
    for (let from = start; from < end;) {
      const row = scanner.scan(from, end, best[k - 1]);
      if (row < 0) return;
      if (row !== excluded) this.offer(row, scanner.distance[0]);
      from = row + 1;
    }
  }

  /** `scanLeaf` in JavaScript (what the WebAssembly scan does, bit for bit). */
  private scanLeafInJs(start: number, end: number): void {
    const { query, best, k } = this;
    const { points, dims } = this.index;
    const excluded = this.excludedRow;
    const q0 = query[0], q1 = query[1], q2 = query[2], q3 = query[3];
    let limit = best[k - 1];
    for (let r = start, po = start * dims; r < end; r++, po += dims) {
      // The leading coordinates carry most of the distance: most points are rejected after them.
      const d0 = q0 - points[po], d1 = q1 - points[po + 1], d2 = q2 - points[po + 2], d3 = q3 - points[po + 3];
      let sum = d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
      if (!(sum < limit) || r === excluded) continue;
      sum = restOfDistance(query, points, po, dims, sum, limit);
      if (sum < limit) {
        this.offer(r, sum);
        limit = best[k - 1];
      }
    }
  }

  /** `scanLeaf` for points of fewer than four coordinates. */
  private scanShortLeaf(start: number, end: number): void {
    const { query, best, k } = this;
    const { points, dims } = this.index;
    for (let r = start; r < end; r++) {
      if (r === this.excludedRow) continue;
      this.evaluated++;
      let sum = 0;
      for (let j = 0; j < dims; j++) sum += (query[j] - points[r * dims + j]) ** 2;
      if (sum < best[k - 1]) this.offer(r, sum);
    }
  }

  /**
   * A leaf of the turned tree: each turned distance summed only until it passes the widened bound; the points within
   * it are measured in the index's own coordinates (as `scanLeaf` measures them) and offered.
   */
  private scanTurnedLeaf(start: number, end: number): void {
    const { query, best, k } = this;
    const { points, dims, ids } = this.tree;
    const own = this.index.points, queries = this.queries, offset = this.queryOffset;
    // (A rotation needs at least eight coordinates: four leading ones are there.)
    const q0 = query[0], q1 = query[1], q2 = query[2], q3 = query[3];
    for (let r = start, po = start * dims; r < end; r++, po += dims) {
      const row = ids[r];
      if (row === this.excludedRow) continue;
      this.evaluated++;
      const limit = this.limit;
      const d0 = q0 - points[po], d1 = q1 - points[po + 1], d2 = q2 - points[po + 2], d3 = q3 - points[po + 3];
      const sum = restOfDistance(query, points, po, dims, d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3, limit);
      if (!(sum < limit)) continue;
      const distance = squaredDistance(queries, offset, own, row * dims, dims);
      if (distance < best[k - 1]) this.offer(row, distance);
    }
  }

  /** Visits a node whose region lies at squared distance `bound` from the query (a lower bound). */
  private visit(node: number, bound: number): void {
    const { splitDim, leftMax, rightMin, first, second } = this.tree;
    const dim = splitDim[node];
    if (dim < 0 || this.end[node] - this.start[node] <= this.scanSize) {
      if (this.rotation) this.scanTurnedLeaf(this.start[node], this.end[node]);
      else this.scanLeaf(this.start[node], this.end[node]);
      return;
    }
    const { query, offsets } = this;
    const v = query[dim], low = leftMax[node], high = rightMin[node];
    const old = offsets[dim];
    const toLeft = v > low ? v - low : 0, toRight = v < high ? high - v : 0;
    const nearLeft = toLeft <= toRight;
    const nearGap = Math.max(old, nearLeft ? toLeft : toRight);
    const farGap = Math.max(old, nearLeft ? toRight : toLeft);
    const nearBound = bound - old * old + nearGap * nearGap;
    if (nearBound < this.limit) {
      offsets[dim] = nearGap;
      this.visit(nearLeft ? first[node] : second[node], nearBound);
    }
    const farBound = bound - old * old + farGap * farGap;
    if (farBound < this.limit) {
      offsets[dim] = farGap;
      this.visit(nearLeft ? second[node] : first[node], farBound);
    }
    offsets[dim] = old;
  }

  /**
   * Searches one query (row `offset / dims` of `queries`); results in `rows`/`best` (reordered rows).
   * `exclude` skips one point (by original index).
   */
  search(queries: Float32Array, offset: number, hints?: ArrayLike<number>, exclude = -1): void {
    const { index, rows, best, query } = this;
    const { dims, points } = index;
    for (let j = 0; j < this.k; j++) {
      rows[j] = -1;
      best[j] = Infinity;
    }
    this.evaluated = 0;
    this.limit = Infinity;
    this.excludedRow = exclude >= 0 ? this.inverse[exclude] : -1;
    this.queries = queries;
    this.queryOffset = offset;
    const rotation = this.rotation;
    if (rotation) {
      turn(queries, offset, rotation.mean, rotation.axes, dims, query, 0);
      let norm = 0;
      for (let j = 0; j < dims; j++) norm += query[j] * query[j];
      this.tolerance = ROTATION_TOLERANCE * (Math.sqrt(norm) + rotation.radius);
    } else {
      for (let j = 0; j < dims; j++) query[j] = queries[offset + j];
    }
    if (hints) {
      for (let h = 0; h < hints.length; h++) {
        const id = hints[h];
        if (id < 0 || id === exclude) continue;
        const row = this.inverse[id];
        this.offer(row, squaredDistance(queries, offset, points, row * dims, dims));
        this.evaluated++;
      }
    }
    if (index.size === 0) return;
    const offsets = this.offsets;
    for (let j = 0; j < dims; j++) offsets[j] = 0;
    this.visit(0, 0);
  }

  /** Original index of the j-th neighbour of the last query. */
  idOf(j: number): number {
    return this.rows[j] < 0 ? -1 : this.index.ids[this.rows[j]];
  }
}

/**
 * k nearest points of every query row. Consecutive queries seed each other (`hints`), which pays when
 * neighbouring queries are alike (patches of an image in scan order). `excludeSelf` skips point i for
 * query i (for searching the points among themselves).
 */
export function searchKnn(index: KnnIndex, queries: Float32Array, k: number, options: { excludeSelf?: boolean } = {}): KnnResult {
  const count = queries.length / index.dims;
  const searcher = new KnnSearcher(index, k);
  const indices = new Int32Array(count * k).fill(-1);
  const distances = new Float32Array(count * k).fill(Infinity);
  const hints = new Int32Array(k).fill(-1);
  for (let q = 0; q < count; q++) {
    searcher.search(queries, q * index.dims, hints, options.excludeSelf ? q : -1);
    for (let j = 0; j < k; j++) {
      const id = searcher.idOf(j);
      indices[q * k + j] = id;
      distances[q * k + j] = searcher.best[j];
      hints[j] = id;
    }
  }
  return { indices, distances };
}

/** The slow, obvious version: every query against every point. */
export function bruteForceKnn(points: Float32Array, dims: number, queries: Float32Array, k: number, options: { excludeSelf?: boolean } = {}): KnnResult {
  const n = points.length / dims;
  const count = queries.length / dims;
  const indices = new Int32Array(count * k).fill(-1);
  const distances = new Float32Array(count * k).fill(Infinity);
  for (let q = 0; q < count; q++) {
    const all: { i: number; d: number }[] = [];
    for (let i = 0; i < n; i++) {
      if (options.excludeSelf && i === q) continue;
      all.push({ i, d: squaredDistance(queries, q * dims, points, i * dims, dims) });
    }
    all.sort((a, b) => a.d - b.d || a.i - b.i);
    for (let j = 0; j < Math.min(k, all.length); j++) {
      indices[q * k + j] = all[j].i;
      distances[q * k + j] = all[j].d;
    }
  }
  return { indices, distances };
}
