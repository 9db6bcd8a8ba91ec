import { dot, squaredDistance } from './vector.ts';

/**
 * One-class SVM (Schölkopf et al., 2001) with an RBF kernel K(x, y) = exp(−γ‖x − y‖²), solved by SMO as
 * LIBSVM does: minimise ½ αᵀQα subject to 0 ≤ αᵢ ≤ 1 and Σ αᵢ = ν·n, choosing each working pair with
 * second-order information (Fan, Chen & Lin, 2005). The decision function f(x) = Σ αᵢ K(xᵢ, x) − ρ is ≥ 0
 * inside the learned boundary; ν bounds the fraction of training points left outside it and is the least
 * fraction of support vectors. Kernel columns are computed as SMO asks for them, with a bounded cache.
 */
export interface OneClassSvm {
  [key: string]: number | Float32Array;
  dims: number;
  gamma: number;
  rho: number;
  /** Support vectors, row-major. */
  vectors: Float32Array;
  /** Their coefficients αᵢ > 0. */
  alphas: Float32Array;
}

export interface OneClassSvmOptions {
  nu: number;
  /** Kernel width; default 1 / (dims · variance of the data), as scikit-learn's 'scale'. */
  gamma?: number;
  tolerance?: number;
  maxIterations?: number;
  /** Rough fraction done, from how far the optimality gap has closed towards the tolerance (log scale). */
  onProgress?: (fraction: number) => void;
  /** Memory for cached kernel columns. */
  cacheBytes?: number;
  /** Called now and then during the work; throws to stop it (e.g. when training is cancelled). */
  checkAbort?: () => void;
}

/** 'scale' kernel width: 1 / (dims · variance of all the values). */
export function scaleGamma(data: Float32Array, dims: number): number {
  let sum = 0, sumSq = 0;
  for (const v of data) { sum += v; sumSq += v * v; }
  const variance = sumSq / data.length - (sum / data.length) ** 2;
  return 1 / (dims * Math.max(variance, 1e-12));
}

export function fitOneClassSvm(data: Float32Array, dims: number, options: OneClassSvmOptions): OneClassSvm {
  const n = data.length / dims;
  const nu = Math.min(1, Math.max(options.nu, 1 / n));
  const gamma = options.gamma ?? scaleGamma(data, dims);
  const tolerance = options.tolerance ?? 1e-3;
  const maxIterations = options.maxIterations ?? Math.max(50_000, 20 * n);

  // Kernel columns are computed on demand and kept in a bounded cache: SMO keeps returning to the same few
  // hundred points (the support vectors), so a full n × n matrix is not needed.
  const cacheColumns = Math.max(2, Math.min(n, Math.floor((options.cacheBytes ?? 256 * 2 ** 20) / (4 * n))));
  const cache = new Map<number, Float32Array>();
  const column = (i: number): Float32Array => {
    let col = cache.get(i);
    if (col) {
      // Refresh its place in the eviction order.
      cache.delete(i);
      cache.set(i, col);
      return col;
    }
    col = new Float32Array(n);
    const o = i * dims;
    for (let t = 0; t < n; t++) col[t] = Math.exp(-gamma * squaredDistance(data, o, data, t * dims, dims));
    if (cache.size >= cacheColumns) cache.delete(cache.keys().next().value as number);
    cache.set(i, col);
    return col;
  };

  // Feasible start, as LIBSVM: the first ⌊νn⌋ coefficients at the bound, the next one takes the rest.
  const alpha = new Float64Array(n);
  const total = nu * n;
  const full = Math.floor(total);
  for (let i = 0; i < full; i++) alpha[i] = 1;
  if (full < n) alpha[full] = total - full;
  const gradient = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (alpha[j] === 0) continue;
    const col = column(j);
    for (let i = 0; i < n; i++) gradient[i] += alpha[j] * col[i];
  }

  const tau = 1e-12;
  let firstGap = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if ((iteration & 1023) === 0) options.checkAbort?.();
    // i: may grow (α < 1) with the smallest gradient.
    let i = -1, gMin = Infinity;
    for (let t = 0; t < n; t++) if (alpha[t] < 1 && gradient[t] < gMin) { gMin = gradient[t]; i = t; }
    // j: may shrink (α > 0); the largest gain (G_t − G_i)² / a_it, and the largest G_t for the stopping test.
    let j = -1, gMax = -Infinity, bestGain = -Infinity;
    const colI = i >= 0 ? column(i) : null;
    if (colI) {
      for (let t = 0; t < n; t++) {
        if (alpha[t] <= 0) continue;
        const g = gradient[t];
        if (g > gMax) gMax = g;
        const diff = g - gMin;
        if (diff <= 0) continue;
        const curvature = Math.max(2 - 2 * colI[t], tau);
        const gain = (diff * diff) / curvature;
        if (gain > bestGain) { bestGain = gain; j = t; }
      }
    }
    if (i < 0 || j < 0 || gMax - gMin < tolerance) break;
    if (iteration === 0) firstGap = gMax - gMin;
    if ((iteration & 1023) === 1023 && options.onProgress && firstGap > tolerance) {
      options.onProgress(Math.min(1, Math.max(0, Math.log(firstGap / (gMax - gMin)) / Math.log(firstGap / tolerance))));
    }
    const curvature = Math.max(2 - 2 * colI![j], tau);
    let delta = (gradient[j] - gradient[i]) / curvature;
    delta = Math.min(delta, 1 - alpha[i], alpha[j]);
    alpha[i] += delta;
    alpha[j] -= delta;
    if (alpha[j] < 1e-12) alpha[j] = 0;
    if (alpha[i] > 1 - 1e-12) alpha[i] = 1;
    const colJ = column(j);
    for (let t = 0; t < n; t++) gradient[t] += delta * (colI![t] - colJ[t]);
  }

  // ρ: the gradient on the free coefficients (all equal at the optimum), else the middle of its bounds.
  let free = 0, freeSum = 0, upper = Infinity, lower = -Infinity;
  for (let t = 0; t < n; t++) {
    if (alpha[t] > 0 && alpha[t] < 1) { free++; freeSum += gradient[t]; }
    else if (alpha[t] === 0) upper = Math.min(upper, gradient[t]);
    else lower = Math.max(lower, gradient[t]);
  }
  const rho = free > 0 ? freeSum / free : (Math.min(upper, 1e300) + Math.max(lower, -1e300)) / 2;

  const support: number[] = [];
  for (let t = 0; t < n; t++) if (alpha[t] > 0) support.push(t);
  const vectors = new Float32Array(support.length * dims);
  const alphas = new Float32Array(support.length);
  support.forEach((t, s) => {
    vectors.set(data.subarray(t * dims, (t + 1) * dims), s * dims);
    alphas[s] = alpha[t];
  });
  return { dims, gamma, rho, vectors, alphas };
}

/** f(x) = Σ αᵢ K(svᵢ, x) − ρ for each row of `data` (≥ 0 inside the boundary). */
export function svmDecision(model: OneClassSvm, data: Float32Array): Float32Array {
  const { dims, gamma, rho, vectors, alphas } = model;
  const n = data.length / dims;
  const count = alphas.length;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const o = p * dims;
    let sum = 0;
    for (let s = 0; s < count; s++) sum += alphas[s] * Math.exp(-gamma * squaredDistance(vectors, s * dims, data, o, dims));
    out[p] = sum - rho;
  }
  return out;
}

/**
 * log ρ − log Σ αᵢ K(svᵢ, x) for each row: a monotone transform of −f(x) (0 on the boundary, > 0 outside)
 * that keeps growing with the distance from the support vectors instead of saturating at ρ when every
 * kernel value underflows towards 0. Computed as a log-sum-exp, so far points stay finite, with
 * ‖sv − x‖² expanded as ‖sv‖² − 2 sv·x + ‖x‖²: one dot product per pair (unrolled) instead of a difference,
 * which halved OC's inspection time (it scores ~3000 patches against ~1000 support vectors per image).
 */
export function svmLogMargin(model: OneClassSvm, data: Float32Array): Float32Array {
  const { dims, gamma, rho, vectors, alphas } = model;
  const n = data.length / dims;
  const count = alphas.length;
  // Per support vector: log αᵢ − γ‖svᵢ‖², and the vector times 2γ.
  const bias = new Float64Array(count);
  const scaled = new Float32Array(vectors.length);
  for (let s = 0; s < count; s++) {
    let norm = 0;
    for (let k = 0; k < dims; k++) {
      const v = vectors[s * dims + k];
      norm += v * v;
      scaled[s * dims + k] = 2 * gamma * v;
    }
    bias[s] = Math.log(alphas[s]) - gamma * norm;
  }
  const logRho = Math.log(Math.max(rho, 1e-300));
  const exponents = new Float64Array(count);
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const o = p * dims;
    let norm = 0;
    for (let k = 0; k < dims; k++) norm += data[o + k] * data[o + k];
    let top = -Infinity;
    for (let s = 0; s < count; s++) {
      const e = bias[s] + dot(scaled, s * dims, data, o, dims);
      exponents[s] = e;
      if (e > top) top = e;
    }
    let sum = 0;
    for (let s = 0; s < count; s++) sum += Math.exp(exponents[s] - top);
    out[p] = logRho - (top - gamma * norm + Math.log(sum));
  }
  return out;
}
