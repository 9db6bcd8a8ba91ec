import type { FloatMap } from '../image/raster.ts';
import { fitPca } from '../kernels/pca.ts';
import type { Random } from '../kernels/random.ts';
import { chainedRowProducts, neighbourhoodProducts, type ChainedRowProducts } from '../kernels/row-products.ts';

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
  /**
   * Second layer (Coates & Ng's two layers; 0 or absent: none): centroids of the first layer's responses
   * max(0, c·y − threshold), averaged over `secondPool`² grid pixels and normalised (divided by √(mean square +
   * `secondFloor`)), whitened as the first layer's neighbourhoods are. Its codebook residual is one plane more: which
   * structures occur together, which one neighbourhood cannot tell.
   */
  secondCount: number;
  secondPool: number;
  secondFloor: number;
  secondWhitenedDims: number;
  secondWhitening: Float32Array;
  secondRestGain: number;
  secondKeptScales: Float32Array;
  secondMean: Float32Array;
  secondCentroids: Float32Array;
}

export interface LearnedFilterOptions {
  count: number;
  size: number;
  /** Planes given: the responses to each centroid, the codebook residual, or both. */
  planes: 'activations' | 'residual' | 'both';
  samples: number;
  iterations: number;
  threshold: number;
  /** Levels that get a second layer (none by default), its centroids and its pooling window (grid pixels, odd). */
  secondLevels?: number[];
  secondCount?: number;
  secondPool?: number;
}

/** Whitening and spherical k-means centroids of a set of rows (either layer). */
interface Codebook {
  mean: Float32Array;
  whitenedDims: number;
  whitening: Float32Array;
  keptScales: Float32Array;
  restGain: number;
  centroids: Float32Array;
}

/** Regulariser of the whitening (Coates & Ng's ε for contrast-normalised patches): components weaker than it are damped. */
const WHITENING_EPSILON = 0.1;
/** Share of the normalised neighbourhoods' variance the whitened dimensions keep (the rest is mostly pixel noise). */
const WHITENING_VARIANCE_KEPT = 0.99;

/**
 * Gathers a `size`² neighbourhood at (cx, cy) of a plane (borders clamped), normalised by its own mean and contrast
 * (with `floor` added to its variance, so that flat noise is not blown up into structure), into `out`; returns its raw mean
 * and variance.
 */
export function normalisedNeighbourhood(
  plane: FloatMap, cx: number, cy: number, size: number, floor: number, out: Float64Array,
): { mean: number; variance: number } {
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
  return { mean, variance };
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
  const first = fitCodebook(data, n, dims, count, options.iterations, random);
  const filters: LearnedFilters = {
    level, size, contrastFloor, whitenedDims: first.whitenedDims, whitening: first.whitening, restGain: first.restGain,
    keptScales: first.keptScales, mean: first.mean, centroids: first.centroids,
    threshold: options.threshold, activations: options.planes === 'residual' ? 0 : 1,
    secondCount: 0, secondPool: 0, secondFloor: 0, secondWhitenedDims: 0, secondWhitening: new Float32Array(0), secondRestGain: 0,
    secondKeptScales: new Float32Array(0), secondMean: new Float32Array(0), secondCentroids: new Float32Array(0),
  };
  const secondCount = options.secondCount ?? 32;
  if (options.secondLevels?.includes(level) && secondCount > 0 && usable.length) fitSecondLayer(filters, usable, secondCount, options.secondPool ?? 3, options, random);
  return filters;
}

/**
 * Whitening (principal directions of the rows, each scaled by 1/√(variance + ε), kept to 99 % of the variance; the
 * energy outside them at the mean gain of the dropped ones), then spherical k-means on the whitened rows.
 */
function fitCodebook(data: Float64Array, n: number, dims: number, count: number, iterations: number, random: Random): Codebook {
  // The engine's PCA on every row (its float32 results move the planes by about 2·10⁻⁶; quick-subset figures unchanged).
  const { mean, components: vectors, variances: values } = fitPca(data.subarray(0, n * dims), dims, Math.max(n, 1));
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
  const centroids = sphericalKMeans(whitened, whitenedDims, count, iterations, random);
  return { mean, whitenedDims, whitening, keptScales, restGain, centroids };
}

/**
 * Fits the second layer of `filters` on the pooled first-layer responses of the planes: `samples` grid pixels drawn
 * evenly over the images, their floor the median mean square (at least a tenth of the mean), then as `fitCodebook`.
 */
function fitSecondLayer(filters: LearnedFilters, planes: FloatMap[], count: number, pool: number, options: LearnedFilterOptions, random: Random): void {
  const channels = filters.centroids.length / filters.whitenedDims;
  const perImage = Math.ceil(options.samples / planes.length);
  const data = new Float64Array(perImage * planes.length * channels);
  let n = 0;
  for (const plane of planes) {
    const { width, height, responses } = firstLayer(plane, filters, true);
    const pooled = pooledResponses(responses!, width, height, channels, pool);
    for (let i = 0; i < perImage; i++) {
      const at = random.int(width * height) * channels;
      for (let c = 0; c < channels; c++) data[n * channels + c] = pooled[at + c];
      n++;
    }
  }
  const squares = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += data[i * channels + c] ** 2;
    squares[i] = sum / channels;
  }
  const sorted = Float64Array.from(squares).sort();
  const meanSquare = squares.reduce((sum, v) => sum + v, 0) / Math.max(n, 1);
  const floor = Math.max(n ? sorted[n >> 1] : 1, 0.1 * meanSquare, 1e-6);
  for (let i = 0; i < n; i++) {
    const scale = 1 / Math.sqrt(squares[i] + floor);
    for (let c = 0; c < channels; c++) data[i * channels + c] *= scale;
  }
  const second = fitCodebook(data, n, channels, count, options.iterations, random);
  Object.assign(filters, {
    secondCount: count, secondPool: pool, secondFloor: floor, secondWhitenedDims: second.whitenedDims, secondWhitening: second.whitening,
    secondRestGain: second.restGain, secondKeptScales: second.keptScales, secondMean: second.mean, secondCentroids: second.centroids,
  });
}

/** Responses (pixel-major, `channels` each) averaged over a `pool`² window of the grid, borders clamped. */
function pooledResponses(responses: Float32Array, width: number, height: number, channels: number, pool: number): Float64Array {
  const half = pool >> 1;
  const across = new Float64Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const to = (y * width + x) * channels;
      for (let d = -half; d <= half; d++) {
        const from = (y * width + Math.min(width - 1, Math.max(0, x + d))) * channels;
        for (let c = 0; c < channels; c++) across[to + c] += responses[from + c];
      }
    }
  }
  const out = new Float64Array(width * height * channels);
  const gain = 1 / (pool * pool);
  for (let y = 0; y < height; y++) {
    for (let d = -half; d <= half; d++) {
      const from = Math.min(height - 1, Math.max(0, y + d)) * width * channels, to = y * width * channels;
      for (let k = 0; k < width * channels; k++) out[to + k] += across[from + k];
    }
    for (let k = y * width * channels; k < (y + 1) * width * channels; k++) out[k] *= gain;
  }
  return out;
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
 *
 * Row by row: the row's normalised neighbourhoods are gathered into one contiguous matrix (from a copy of the plane
 * with clamped borders, so no index is clamped per pixel), then whitened and matched as matrix products. A flat
 * neighbourhood (all values equal: most of a board's) normalises to minus the mean neighbourhood whatever its value,
 * so its planes are computed once and copied.
 */
export function learnedFilterPlanes(plane: FloatMap, filters: LearnedFilters): { width: number; height: number; planes: Float32Array[] } {
  const second = filters.secondCount > 0;
  const { width, height, planes, responses, flatMask } = firstLayer(plane, filters, second);
  if (second) planes.push(secondLayerResidual(responses!, flatMask!, width, height, filters));
  return { width, height, planes };
}

/** The grid size of `learnedFilterPlanes` for a plane of the given size (every other pixel, rounded up). */
export function learnedGridSize(planeWidth: number, planeHeight: number): { width: number; height: number } {
  return { width: (planeWidth + 1) >> 1, height: (planeHeight + 1) >> 1 };
}

/**
 * `learnedFilterPlanes` at the grid pixels `needed` marks only (one byte per grid pixel, row-major), the others left 0:
 * each computed pixel gets the very numbers of the whole computation (its products do not depend on which other
 * pixels are computed beside it). First layer only: with a second layer, null (its pooled responses need neighbours).
 */
export function learnedFilterPlanesAt(
  plane: FloatMap, filters: LearnedFilters, needed: Uint8Array,
): { width: number; height: number; planes: Float32Array[] } | null {
  if (filters.secondCount > 0) return null;
  const { width, height, planes } = firstLayer(plane, filters, false, needed);
  return { width, height, planes };
}

/**
 * The first layer's planes of `learnedFilterPlanes`, and (when `keepResponses`) every grid pixel's responses
 * max(0, c·y − threshold) and which grid pixels had a flat neighbourhood. With `needed`, only the grid pixels it marks.
 */
function firstLayer(
  plane: FloatMap, filters: LearnedFilters, keepResponses: boolean, needed: Uint8Array | null = null,
): { width: number; height: number; planes: Float32Array[]; responses: Float32Array | null; flatMask: Uint8Array | null } {
  const { size, contrastFloor, whitenedDims, mean, threshold, whitening, centroids } = filters;
  const half = size >> 1;
  const count = centroids.length / whitenedDims;
  const { width, height } = learnedGridSize(plane.width, plane.height);
  const activations = filters.activations ? count : 0;
  const planes = Array.from({ length: activations + 1 }, () => new Float32Array(width * height));
  const residual = planes[activations];
  // One grid row's neighbourhoods at a time: gathered, whitened and matched in the kernel's memory.
  const paddedWidth = plane.width + 2 * half, paddedHeight = plane.height + 2 * half;
  const product = neighbourhoodProducts(
    whitening, size, whitenedDims, centroids, count, filters, { width, paddedWidth, paddedHeight, mean, contrastFloor },
  );
  const { padded, which: varying, outputs: responses, residuals, flat } = product;
  // The plane with `half` clamped pixels on every side.
  for (let py = 0; py < paddedHeight; py++) {
    const from = Math.min(plane.height - 1, Math.max(0, py - half)) * plane.width, to = py * paddedWidth;
    for (let px = 0; px < paddedWidth; px++) padded[to + px] = plane.data[from + Math.min(plane.width - 1, Math.max(0, px - half))];
  }
  const flatPlanes = flatOutputs(filters, product);
  const kept = keepResponses ? new Float32Array(width * height * count) : null;
  const flatMask = keepResponses ? new Uint8Array(width * height) : null;
  for (let gy = 0; gy < height; gy++) {
    const { varying: n, flats } = product.gather(gy, needed);
    product.run(n);
    product.codebookResiduals(n);
    const at = gy * width;
    for (let r = 0; r < n; r++) {
      const gx = varying[r];
      residual[at + gx] = residuals[gx];
      const from = gx * product.outputStride;
      for (let c = 0; c < activations; c++) planes[c][at + gx] = Math.max(0, responses[from + c] - threshold);
      if (kept) for (let c = 0, to = (at + gx) * count; c < count; c++) kept[to + c] = Math.max(0, responses[from + c] - threshold);
    }
    if (flats) {
      for (let f = 0; f < flats; f++) {
        for (let p = 0; p < activations; p++) planes[p][at + flat[f]] = flatPlanes[p];
        residual[at + flat[f]] = flatPlanes[count];
        if (kept) for (let c = 0, to = (at + flat[f]) * count; c < count; c++) kept[to + c] = flatPlanes[c];
        if (flatMask) flatMask[at + flat[f]] = 1;
      }
    }
  }
  return { width, height, planes, responses: kept, flatMask };
}

/**
 * The second layer's codebook residual at every grid pixel, from the first layer's responses: pooled, normalised by
 * √(mean square + floor), centred, whitened and matched as the first layer's neighbourhoods are.
 */
function secondLayerResidual(responses: Float32Array, flatMask: Uint8Array, width: number, height: number, filters: LearnedFilters): Float32Array {
  const channels = filters.centroids.length / filters.whitenedDims;
  const { secondPool, secondFloor, secondWhitenedDims: dims2, secondKeptScales, secondRestGain, secondMean, secondWhitening, secondCentroids } = filters;
  const count2 = secondCentroids.length / dims2;
  const pooled = pooledResponses(responses, width, height, channels, secondPool);
  const out = new Float32Array(width * height);
  const product = chainedRowProducts(
    secondWhitening, channels, dims2, secondCentroids, count2, width, { keptScales: secondKeptScales, restGain: secondRestGain },
  );
  const { rows, which, energies, residuals } = product;
  // A window of flat neighbourhoods only (most of a board's) pools the same responses wherever it lies: computed once.
  const half = secondPool >> 1;
  let flatKnown = false, flatValue = 0;
  for (let y = 0; y < height; y++) {
    const from = y * width * channels;
    let n = 0, pendingFlat = -1;
    for (let x = 0; x < width; x++) {
      let allFlat = true;
      for (let dy = -half; dy <= half && allFlat; dy++) {
        const line = Math.min(height - 1, Math.max(0, y + dy)) * width;
        for (let dx = -half; dx <= half; dx++) if (!flatMask[line + Math.min(width - 1, Math.max(0, x + dx))]) { allFlat = false; break; }
      }
      if (allFlat) {
        if (flatKnown) { out[y * width + x] = flatValue; continue; }
        pendingFlat = x;
      }
      let square = 0;
      for (let c = 0; c < channels; c++) square += pooled[from + x * channels + c] ** 2;
      const scale = 1 / Math.sqrt(square / channels + secondFloor);
      let energy = 0;
      for (let c = 0; c < channels; c++) {
        const v = Math.fround(pooled[from + x * channels + c] * scale - secondMean[c]);
        rows[x * channels + c] = v;
        energy += v * v;
      }
      energies[x] = energy;
      which[n++] = x;
    }
    product.run(n);
    product.codebookResiduals(n);
    for (let r = 0; r < n; r++) out[y * width + which[r]] = residuals[which[r]];
    if (pendingFlat >= 0) {
      flatValue = out[y * width + pendingFlat];
      flatKnown = true;
    }
  }
  return out;
}

/**
 * The first layer's outputs for a flat neighbourhood (normalised to minus the mean neighbourhood): every response, then
 * the residual. Computed in row 0 of `product` (the first layer's, before its rows are filled).
 */
function flatOutputs(filters: LearnedFilters, product: ChainedRowProducts): Float64Array {
  const { whitenedDims, mean, threshold } = filters;
  const dims = mean.length, count = filters.centroids.length / whitenedDims;
  let energy = 0;
  for (let k = 0; k < dims; k++) energy += (product.rows[k] = -mean[k]) ** 2;
  product.energies[0] = energy;
  product.which[0] = 0;
  product.run(1);
  product.codebookResiduals(1);
  const out = new Float64Array(count + 1);
  for (let c = 0; c < count; c++) out[c] = Math.max(0, product.outputs[c] - threshold);
  out[count] = product.residuals[0];
  return out;
}
