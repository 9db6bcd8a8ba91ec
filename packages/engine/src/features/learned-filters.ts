import type { FloatMap } from '../image/raster.ts';
import { symmetricEigen } from '../kernels/pca.ts';
import type { Random } from '../kernels/random.ts';

/**
 * Filters learned from the good images by spherical k-means on whitened patches (Coates & Ng): small neighbourhoods of
 * the lightness are normalised (mean removed, divided by their contrast plus a floor), whitened (PCA, each component
 * scaled to unit variance, regularised), and clustered on the unit sphere. A pixel's features are the soft-thresholded
 * responses max(0, c·y − α) of its whitened neighbourhood y to each centroid c — how much it looks like each of the
 * surface's own typical structures — and its *codebook residual*: the part of y that the best-matching centroid
 * leaves unexplained (√(|y|² − max(c·y, 0)²)), high on a crack, spur or fray shaped like no good neighbourhood.
 */
export interface LearnedFilters {
  [key: string]: number | Float32Array;
  /** Pyramid level whose lightness the filters see. */
  level: number;
  /** Side of the square neighbourhood (odd). */
  size: number;
  /** Contrast floor (variance units of the lightness) added before dividing by a neighbourhood's contrast. */
  contrastFloor: number;
  /** Whitened dimensions kept. */
  whitenedDims: number;
  /** whitenedDims × size²: principal directions of the normalised neighbourhoods, each divided by √(variance + ε). */
  whitening: Float32Array;
  /**
   * 1 / (mean variance of the directions left out + ε): the whitening gain of the energy outside the kept directions,
   * which joins the residual — what good neighbourhoods hardly ever show (a crack across streaks) lives there.
   */
  restGain: number;
  /** √(variance + ε) of each kept direction (undoes its whitening gain, to measure the energy inside them). */
  keptScales: Float32Array;
  /** Mean normalised neighbourhood (size² values), removed before whitening. */
  mean: Float32Array;
  /** count × whitenedDims, unit rows. */
  centroids: Float32Array;
  /** Soft threshold of the responses. */
  threshold: number;
  /** 1: the centroid responses are planes; 0: only the codebook residual. */
  activations: number;
}

export interface LearnedFilterOptions {
  count: number;
  size: number;
  /** Planes given: the responses to each centroid, the codebook residual, or both. */
  planes: 'activations' | 'residual' | 'both';
  samples: number;
  iterations: number;
  threshold: number;
}

/** Regulariser of the whitening (Coates & Ng's ε for contrast-normalised patches): components weaker than it are damped. */
const WHITENING_EPSILON = 0.1;
/** Share of the normalised neighbourhoods' variance the whitened dimensions keep (the rest is mostly pixel noise). */
const WHITENING_VARIANCE_KEPT = 0.99;

/**
 * Gathers a `size`² neighbourhood at (cx, cy) of a plane (borders clamped), normalised by its own mean and contrast
 * (with `floor` added to its variance, so that flat noise is not blown up into structure), into `out`.
 */
function normalisedNeighbourhood(plane: FloatMap, cx: number, cy: number, size: number, floor: number, out: Float64Array): void {
  const { width, height, data } = plane;
  const half = size >> 1, dims = size * size;
  let sum = 0, sumSq = 0;
  for (let dy = -half, k = 0; dy <= half; dy++) {
    const y = Math.min(height - 1, Math.max(0, cy + dy)) * width;
    for (let dx = -half; dx <= half; dx++, k++) {
      const v = data[y + Math.min(width - 1, Math.max(0, cx + dx))];
      out[k] = v;
      sum += v;
      sumSq += v * v;
    }
  }
  const mean = sum / dims;
  const variance = Math.max(0, sumSq / dims - mean * mean);
  const scale = 1 / Math.sqrt(variance + floor);
  for (let k = 0; k < dims; k++) out[k] = (out[k] - mean) * scale;
}

/**
 * Fits the filters on random neighbourhoods of the planes (the lightness of training images at one pyramid level):
 * contrast floor = the neighbourhoods' median variance (scale-free: the same for any exposure unit), whitening by PCA,
 * then spherical k-means from seeded samples.
 */
export function fitLearnedFilters(planes: FloatMap[], level: number, options: LearnedFilterOptions, random: Random): LearnedFilters {
  const { size, count } = options;
  const dims = size * size;
  const usable = planes.filter((p) => p.width >= size && p.height >= size);
  const n = usable.length ? options.samples : 0;
  const centres: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = random.int(usable.length);
    centres.push(p, random.int(usable[p].width), random.int(usable[p].height));
  }
  const raw = new Float64Array(dims);
  const variances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    normalisedNeighbourhood(usable[centres[3 * i]], centres[3 * i + 1], centres[3 * i + 2], size, 0, raw);
    const plane = usable[centres[3 * i]];
    // Variance without normalisation, from the same pixels.
    let sum = 0, sumSq = 0;
    const half = size >> 1;
    for (let dy = -half; dy <= half; dy++) {
      const y = Math.min(plane.height - 1, Math.max(0, centres[3 * i + 2] + dy)) * plane.width;
      for (let dx = -half; dx <= half; dx++) {
        const v = plane.data[y + Math.min(plane.width - 1, Math.max(0, centres[3 * i + 1] + dx))];
        sum += v;
        sumSq += v * v;
      }
    }
    variances[i] = Math.max(0, sumSq / dims - (sum / dims) ** 2);
  }
  // The floor: their median variance, or a tenth of the mean where most neighbourhoods are flat (binary layouts).
  const sortedVariances = Float64Array.from(variances).sort();
  const meanVariance = variances.reduce((sum, v) => sum + v, 0) / Math.max(n, 1);
  const contrastFloor = Math.max(n ? sortedVariances[n >> 1] : 1, 0.1 * meanVariance, 1e-6);
  const data = new Float64Array(n * dims);
  for (let i = 0; i < n; i++) {
    normalisedNeighbourhood(usable[centres[3 * i]], centres[3 * i + 1], centres[3 * i + 2], size, contrastFloor, raw);
    data.set(raw, i * dims);
  }
  // Whitening: principal directions of the normalised neighbourhoods, scaled by 1/√(variance + ε).
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) mean[k] += data[i * dims + k];
  for (let k = 0; k < dims; k++) mean[k] /= Math.max(n, 1);
  const covariance = new Float64Array(dims * dims);
  const centred = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dims; k++) centred[k] = data[i * dims + k] - mean[k];
    for (let a = 0; a < dims; a++) {
      const va = centred[a];
      for (let b = a; b < dims; b++) covariance[a * dims + b] += va * centred[b];
    }
  }
  for (let a = 0; a < dims; a++) for (let b = a; b < dims; b++) covariance[b * dims + a] = covariance[a * dims + b] /= Math.max(n - 1, 1);
  const { values, vectors } = symmetricEigen(covariance, dims);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  let whitenedDims = 0;
  for (let explained = 0; whitenedDims < dims && (whitenedDims === 0 || explained < WHITENING_VARIANCE_KEPT * total); whitenedDims++) explained += Math.max(0, values[whitenedDims]);
  const whitening = new Float32Array(whitenedDims * dims);
  const keptScales = new Float32Array(whitenedDims);
  let restVariance = 0;
  for (let c = whitenedDims; c < dims; c++) restVariance += Math.max(0, values[c]) / (dims - whitenedDims);
  const restGain = 1 / (restVariance + WHITENING_EPSILON);
  for (let c = 0; c < whitenedDims; c++) {
    keptScales[c] = Math.sqrt(Math.max(0, values[c]) + WHITENING_EPSILON);
    const gain = 1 / keptScales[c];
    for (let k = 0; k < dims; k++) whitening[c * dims + k] = vectors[c * dims + k] * gain;
  }
  const whitened = new Float64Array(n * whitenedDims);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < whitenedDims; c++) {
      let dot = 0;
      for (let k = 0; k < dims; k++) dot += whitening[c * dims + k] * (data[i * dims + k] - mean[k]);
      whitened[i * whitenedDims + c] = dot;
    }
  }
  const centroids = sphericalKMeans(whitened, whitenedDims, count, options.iterations, random);
  return {
    level, size, contrastFloor, whitenedDims, whitening, restGain, keptScales, mean: Float32Array.from(mean), centroids,
    threshold: options.threshold, activations: options.planes === 'residual' ? 0 : 1,
  };
}

/**
 * Spherical k-means: unit centroids, each row assigned to the centroid of largest dot product, a centroid becoming the
 * normalised sum of its rows (weighted by that dot product, as Coates & Ng). Empty centroids restart at a random row.
 */
function sphericalKMeans(rows: Float64Array, dims: number, count: number, iterations: number, random: Random): Float32Array {
  const n = rows.length / dims;
  const centroids = new Float64Array(count * dims);
  const normalise = (c: number) => {
    let norm = 0;
    for (let k = 0; k < dims; k++) norm += centroids[c * dims + k] ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < dims; k++) centroids[c * dims + k] /= norm;
  };
  const seedCentroid = (c: number) => {
    if (n === 0) {
      for (let k = 0; k < dims; k++) centroids[c * dims + k] = random.normal();
    } else {
      const r = random.int(n);
      for (let k = 0; k < dims; k++) centroids[c * dims + k] = rows[r * dims + k] + 1e-3 * random.normal();
    }
    normalise(c);
  };
  for (let c = 0; c < count; c++) seedCentroid(c);
  const sums = new Float64Array(count * dims);
  const sizes = new Int32Array(count);
  for (let iteration = 0; iteration < iterations; iteration++) {
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0, bestDot = 0;
      for (let c = 0; c < count; c++) {
        let dot = 0;
        for (let k = 0; k < dims; k++) dot += centroids[c * dims + k] * rows[i * dims + k];
        if (c === 0 || Math.abs(dot) > Math.abs(bestDot)) { bestDot = dot; best = c; }
      }
      sizes[best]++;
      for (let k = 0; k < dims; k++) sums[best * dims + k] += bestDot * rows[i * dims + k];
    }
    for (let c = 0; c < count; c++) {
      if (sizes[c] === 0) { seedCentroid(c); continue; }
      centroids.set(sums.subarray(c * dims, c * dims + dims), c * dims);
      normalise(c);
    }
  }
  return Float32Array.from(centroids);
}

/**
 * The planes of one lightness plane (the filters' level): computed at every other pixel of every other row (patches pool
 * them over 8×8 pixels or more anyway), so each plane is half the level's width and height (rounded up), to be pooled as
 * a level of twice the scale. Planes: the responses to each centroid (when `activations`), then the codebook residual.
 */
export function learnedFilterPlanes(plane: FloatMap, filters: LearnedFilters): { width: number; height: number; planes: Float32Array[] } {
  const { size, contrastFloor, whitenedDims, whitening, restGain, keptScales, mean, centroids, threshold } = filters;
  const dims = size * size;
  const count = centroids.length / whitenedDims;
  const width = (plane.width + 1) >> 1, height = (plane.height + 1) >> 1;
  const activations = filters.activations ? count : 0;
  const planes = Array.from({ length: activations + 1 }, () => new Float32Array(width * height));
  const neighbourhood = new Float64Array(dims);
  const y = new Float64Array(whitenedDims);
  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      normalisedNeighbourhood(plane, 2 * gx, 2 * gy, size, contrastFloor, neighbourhood);
      let energy = 0;
      for (let k = 0; k < dims; k++) energy += (neighbourhood[k] -= mean[k]) ** 2;
      let norm = 0;
      for (let c = 0, o = 0; c < whitenedDims; c++, o += dims) {
        let dot = 0;
        for (let k = 0; k < dims; k++) dot += whitening[o + k] * neighbourhood[k];
        y[c] = dot;
        norm += dot * dot;
        energy -= (dot * keptScales[c]) ** 2;
      }
      norm += restGain * Math.max(0, energy);
      let best = 0;
      const at = gy * width + gx;
      for (let c = 0, o = 0; c < count; c++, o += whitenedDims) {
        let dot = 0;
        for (let k = 0; k < whitenedDims; k++) dot += centroids[o + k] * y[k];
        if (Math.abs(dot) > best) best = Math.abs(dot);
        if (activations) planes[c][at] = Math.max(0, dot - threshold);
      }
      planes[activations][at] = Math.sqrt(Math.max(0, norm - best * best));
    }
  }
  return { width, height, planes };
}
