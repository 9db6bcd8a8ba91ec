import { Random } from './random.ts';
import { squaredDistance } from './vector.ts';

/**
 * Exact k-nearest-neighbour search (squared Euclidean distance) over a fixed set of points.
 *
 * The points are grouped by k-means into cells; each cell keeps its centroid, its radius and every member's
 * distance to the centroid. A query visits cells in order of their lower bound `|q − c| − radius` and stops
 * when that bound passes its k-th best distance; inside a cell, the triangle inequality
 * `|q − p| ≥ ||q − c| − |p − c||` skips most members without computing their distance. Nothing is
 * approximate: the answers equal brute force (`bruteForceKnn`), only faster where the data has structure
 * (image patches do: most of them are background or repeat each other). A distance is summed only until
 * it passes the k-th best, so coordinates ordered by decreasing variance (e.g. principal components) stop
 * it early.
 *
 * Points are rows of `dims` float32 values.
 */
export interface KnnIndex {
  [key: string]: number | Float32Array | Int32Array;
  dims: number;
  size: number;
  /** The points, reordered so that each cell's members are contiguous. */
  points: Float32Array;
  /** Original row of each reordered point. */
  ids: Int32Array;
  /** Distance of each reordered point to its cell's centroid. */
  toCentroid: Float32Array;
  cells: number;
  centroids: Float32Array;
  radii: Float32Array;
  /** Members of cell c are reordered points [starts[c], starts[c + 1]). */
  starts: Int32Array;
}

export interface KnnResult {
  /** k rows per query: original point indices, nearest first (−1 when there are fewer than k points). */
  indices: Int32Array;
  /** Squared distances, same layout. */
  distances: Float32Array;
}

/** Lloyd's k-means with k-means++ seeding; returns each point's cell and the centroids. */
export function kMeans(points: Float32Array, dims: number, cells: number, iterations: number, random: Random): { assignment: Int32Array; centroids: Float32Array } {
  const n = points.length / dims;
  const k = Math.max(1, Math.min(cells, n));
  const centroids = new Float32Array(k * dims);
  // k-means++ seeding on a sample keeps the cost at O(sample × k).
  const sampleSize = Math.min(n, Math.max(k * 16, 1024));
  const sample = sampleSize === n ? Array.from({ length: n }, (_, i) => i) : random.sample(n, sampleSize);
  const best = new Float64Array(sample.length).fill(Infinity);
  let chosen = sample[random.int(sample.length)];
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(chosen * dims, chosen * dims + dims), c * dims);
    let total = 0;
    for (let s = 0; s < sample.length; s++) {
      const d = squaredDistance(points, sample[s] * dims, centroids, c * dims, dims);
      if (d < best[s]) best[s] = d;
      total += best[s];
    }
    if (total <= 0) break;
    let r = random.next() * total;
    chosen = sample[sample.length - 1];
    for (let s = 0; s < sample.length; s++) {
      r -= best[s];
      if (r <= 0) { chosen = sample[s]; break; }
    }
  }
  const assignment = new Int32Array(n);
  const sums = new Float64Array(k * dims);
  const counts = new Int32Array(k);
  for (let iteration = 0; iteration <= iterations; iteration++) {
    for (let i = 0; i < n; i++) {
      let bestCell = 0, bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const d = squaredDistance(points, i * dims, centroids, c * dims, dims);
        if (d < bestDistance) { bestDistance = d; bestCell = c; }
      }
      assignment[i] = bestCell;
    }
    if (iteration === iterations) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assignment[i];
      counts[c]++;
      for (let j = 0; j < dims; j++) sums[c * dims + j] += points[i * dims + j];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < dims; j++) centroids[c * dims + j] = sums[c * dims + j] / counts[c];
    }
  }
  return { assignment, centroids };
}

/**
 * Builds the index. `cells` defaults to about √n / 2: every query pays for measuring and ordering all cells,
 * so fewer, larger cells were faster on image patches (4000 points of 30 dimensions: 32 cells 26 ms per
 * image, 63 cells 29 ms, 126 cells 41 ms, although larger cells evaluate more points). Deterministic for a seed.
 */
export function buildKnnIndex(points: Float32Array, dims: number, options: { cells?: number; iterations?: number; seed?: number } = {}): KnnIndex {
  const size = points.length / dims;
  if (!Number.isInteger(size)) throw new Error('points.length must be a multiple of dims');
  const cells = Math.max(1, Math.min(options.cells ?? Math.round(Math.sqrt(size) / 2), size, 65535));
  const { assignment, centroids } = kMeans(points, dims, cells, options.iterations ?? 6, new Random(options.seed ?? 0));
  const counts = new Int32Array(cells);
  for (let i = 0; i < size; i++) counts[assignment[i]]++;
  const starts = new Int32Array(cells + 1);
  for (let c = 0; c < cells; c++) starts[c + 1] = starts[c] + counts[c];
  const fill = starts.slice(0, cells);
  const ids = new Int32Array(size);
  for (let i = 0; i < size; i++) ids[fill[assignment[i]]++] = i;
  const reordered = new Float32Array(size * dims);
  const toCentroid = new Float32Array(size);
  const radii = new Float32Array(cells);
  for (let c = 0; c < cells; c++) {
    for (let r = starts[c]; r < starts[c + 1]; r++) {
      const i = ids[r];
      reordered.set(points.subarray(i * dims, i * dims + dims), r * dims);
      const d = Math.sqrt(squaredDistance(points, i * dims, centroids, c * dims, dims));
      toCentroid[r] = d;
      if (d > radii[c]) radii[c] = d;
    }
  }
  return { dims, size, points: reordered, ids, toCentroid, cells, centroids, radii, starts };
}

/**
 * A reusable searcher (scratch buffers sized once). `search` answers one query; `hints` are original
 * point indices to try first (e.g. the previous query's answer: neighbouring patches match similar points),
 * which tightens the bound early without changing the answer.
 */
export class KnnSearcher {
  readonly index: KnnIndex;
  readonly k: number;
  private readonly keys: Float64Array;
  private readonly keyWords: Uint32Array;
  private readonly centroidDistance: Float64Array;
  /** k best of the current query: reordered rows and squared distances, nearest first. */
  readonly rows: Int32Array;
  readonly best: Float64Array;
  private readonly inverse: Int32Array;
  /** Distances computed by the last query (a measure of the work pruning saved). */
  evaluated = 0;

  constructor(index: KnnIndex, k: number) {
    this.index = index;
    this.k = Math.max(1, k);
    this.keys = new Float64Array(index.cells);
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.centroidDistance = new Float64Array(index.cells);
    this.rows = new Int32Array(this.k);
    this.best = new Float64Array(this.k);
    this.inverse = new Int32Array(index.size);
    for (let r = 0; r < index.size; r++) this.inverse[index.ids[r]] = r;
  }

  private offer(row: number, distance: number): void {
    const { rows, best, k } = this;
    if (!(distance < best[k - 1])) return;
    for (let j = 0; j < k; j++) if (rows[j] === row) return;
    let j = k - 1;
    while (j > 0 && best[j - 1] > distance) {
      best[j] = best[j - 1];
      rows[j] = rows[j - 1];
      j--;
    }
    best[j] = distance;
    rows[j] = row;
  }

  /**
   * Searches one query (row `offset / dims` of `queries`); results in `rows`/`best` (reordered rows).
   * `exclude` skips one point (by original index).
   */
  search(queries: Float32Array, offset: number, hints?: ArrayLike<number>, exclude = -1): void {
    const { index, k, keys, keyWords, centroidDistance, rows, best } = this;
    const { dims, cells, centroids, radii, starts, points, toCentroid } = index;
    rows.fill(-1);
    best.fill(Infinity);
    let evaluated = 0;
    const excludedRow = exclude >= 0 ? this.inverse[exclude] : -1;
    if (hints) {
      for (let h = 0; h < hints.length; h++) {
        const id = hints[h];
        if (id < 0 || id === exclude) continue;
        const row = this.inverse[id];
        this.offer(row, squaredDistance(queries, offset, points, row * dims, dims));
        evaluated++;
      }
    }
    for (let c = 0; c < cells; c++) {
      const d = Math.sqrt(squaredDistance(queries, offset, centroids, c * dims, dims));
      centroidDistance[c] = d;
      keys[c] = Math.max(0, d - radii[c]);
      // The cell's number rides in the low 16 bits of the bound's mantissa: a native sort orders both.
      keyWords[2 * c] = (keyWords[2 * c] & 0xffff0000) | c;
    }
    keys.sort();
    for (let s = 0; s < cells; s++) {
      const c = keyWords[2 * s] & 0xffff;
      keyWords[2 * s] &= 0xffff0000;
      const bound = keys[s];
      // Clearing the low bits only lowers a bound, and later bounds are no lower: stopping here is exact.
      if (bound * bound >= best[k - 1]) break;
      const dc = centroidDistance[c];
      for (let r = starts[c]; r < starts[c + 1]; r++) {
        const gap = dc - toCentroid[r];
        if (gap * gap >= best[k - 1] || r === excludedRow) continue;
        evaluated++;
        // Partial distance: stop summing once past the k-th best (coordinates ordered by variance stop early).
        const po = r * dims, limit = best[k - 1];
        let sum = 0, j = 0;
        while (j < dims) {
          const end = Math.min(dims, j + 4);
          for (; j < end; j++) {
            const diff = queries[offset + j] - points[po + j];
            sum += diff * diff;
          }
          if (sum >= limit) break;
        }
        if (sum < limit) this.offer(r, sum);
      }
    }
    this.evaluated = evaluated;
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
