import { Random } from './random.ts';
import { dot } from './vector.ts';

/**
 * Non-negative matrix factorisation X ≈ W·H on row-major Float32Arrays.
 * X: n × d (rows are samples, e.g. patches), W: n × k (codes), H: k × d (the dictionary; atoms are rows).
 *
 * Two solvers: `hals` (hierarchical alternating least squares: exact coordinate updates, converges in far
 * fewer iterations) and `mu` (Lee–Seung multiplicative updates, the classic). Both minimise
 * ½‖X − WH‖² + sparsity·Σ|W|; atoms are kept at unit length so that the L1 penalty on codes means something.
 */
export type NmfSolver = 'hals' | 'mu';

export interface NmfOptions {
  components: number;
  iterations: number;
  solver?: NmfSolver;
  /** L1 weight on the codes (sparse modelling); 0 = plain NMF. */
  sparsity?: number;
  seed?: number;
  /** Called after every iteration (for progress and cancellation, which may throw). */
  onIteration?: (iteration: number) => void;
}

export interface NmfResult {
  /** k × d dictionary, rows of unit length. */
  dictionary: Float32Array;
  codes: Float32Array;
  components: number;
  dims: number;
}

const EPS = 1e-10;

/** C (a × b) = A (a × m) · Bᵀ, B (b × m): dot products of rows, the cache-friendly product. */
export function multiplyTransposed(A: Float32Array, B: Float32Array, a: number, b: number, m: number, out = new Float64Array(a * b)): Float64Array {
  for (let i = 0; i < a; i++) {
    const ai = i * m;
    for (let j = 0; j < b; j++) out[i * b + j] = dot(A, ai, B, j * m, m);
  }
  return out;
}

/** Gram matrix of the rows of H (k × d): H·Hᵀ. */
function gram(H: Float32Array, k: number, d: number): Float64Array {
  return multiplyTransposed(H, H, k, k, d);
}

/** C (k × d) = Wᵀ·X, with W n × k and X n × d. */
function codesTransposedTimesData(W: Float32Array, X: Float32Array, n: number, k: number, d: number): Float64Array {
  const out = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < k; j++) {
      const w = W[i * k + j];
      if (w === 0) continue;
      const o = j * d;
      for (let t = 0; t < d; t++) out[o + t] += w * X[xi + t];
    }
  }
  return out;
}

/** Gram matrix of the columns of W (n × k): Wᵀ·W. */
function codesGram(W: Float32Array, n: number, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) {
      const wa = W[o + a];
      if (wa === 0) continue;
      for (let b = 0; b < k; b++) out[a * k + b] += wa * W[o + b];
    }
  }
  return out;
}

/**
 * Codes of every row of X for a fixed dictionary: non-negative least squares with an L1 penalty,
 * by cyclic coordinate descent (HALS on W). `XHt` (n × k) and `HHt` (k × k) are precomputed.
 */
function updateCodesHals(W: Float32Array, XHt: Float64Array, HHt: Float64Array, n: number, k: number, sparsity: number, sweeps: number): void {
  // The gradient g = W·HHᵀ − XHᵀ + λ of each row is kept up to date, so a coordinate that stays at zero
  // costs O(1) instead of O(k).
  const gradient = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let j = 0; j < k; j++) {
      let g = sparsity - XHt[o + j];
      for (let t = 0; t < k; t++) g += W[o + t] * HHt[t * k + j];
      gradient[j] = g;
    }
    for (let sweep = 0; sweep < sweeps; sweep++) {
      for (let j = 0; j < k; j++) {
        const diag = HHt[j * k + j];
        const old = W[o + j];
        let next = diag > EPS ? old - gradient[j] / diag : 0;
        if (next < 0) next = 0;
        W[o + j] = next;
        const delta = W[o + j] - old;
        if (delta === 0) continue;
        const row = j * k;
        for (let t = 0; t < k; t++) gradient[t] += delta * HHt[row + t];
      }
    }
  }
}

/** Scales each atom to unit length, moving the scale into the codes (the product WH is unchanged). */
function normaliseAtoms(W: Float32Array, H: Float32Array, n: number, k: number, d: number): void {
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let t = 0; t < d; t++) norm += H[j * d + t] ** 2;
    norm = Math.sqrt(norm);
    if (norm <= EPS) continue;
    for (let t = 0; t < d; t++) H[j * d + t] /= norm;
    for (let i = 0; i < n; i++) W[i * k + j] *= norm;
  }
}

/**
 * Factorises X. Initialisation: atoms are k distinct rows of X picked at random (seeded) plus a small
 * positive floor, so that the first iterations start from real patterns rather than noise.
 */
export function nmf(X: Float32Array, n: number, d: number, options: NmfOptions): NmfResult {
  const k = Math.max(1, Math.min(options.components, n));
  const solver = options.solver ?? 'hals';
  const sparsity = options.sparsity ?? 0;
  const random = new Random(options.seed ?? 0);
  let mean = 0;
  for (let i = 0; i < X.length; i++) mean += X[i];
  mean /= Math.max(1, X.length);
  const H = new Float32Array(k * d);
  random.sample(n, k).forEach((row, j) => {
    for (let t = 0; t < d; t++) H[j * d + t] = X[row * d + t] + mean * 0.1 * (0.5 + random.next());
  });
  const W = new Float32Array(n * k);
  normaliseAtoms(W, H, n, k, d);
  {
    const XHt = multiplyTransposed(X, H, n, k, d);
    for (let i = 0; i < W.length; i++) W[i] = Math.max(0, XHt[i]) / k;
    updateCodesHals(W, XHt, gram(H, k, d), n, k, sparsity, 2);
  }

  for (let iteration = 0; iteration < options.iterations; iteration++) {
    if (solver === 'hals') {
      // Dictionary: one atom at a time, exact minimiser with the others fixed.
      const C = codesTransposedTimesData(W, X, n, k, d);
      const D = codesGram(W, n, k);
      for (let j = 0; j < k; j++) {
        const diag = D[j * k + j];
        if (diag <= EPS) continue;
        const o = j * d;
        for (let t = 0; t < d; t++) {
          let s = C[o + t];
          for (let l = 0; l < k; l++) s -= D[j * k + l] * H[l * d + t];
          const v = H[o + t] + s / diag;
          H[o + t] = v > 0 ? v : 0;
        }
      }
      normaliseAtoms(W, H, n, k, d);
      updateCodesHals(W, multiplyTransposed(X, H, n, k, d), gram(H, k, d), n, k, sparsity, 1);
    } else {
      // H ← H ⊙ WᵀX / (WᵀW H)
      const C = codesTransposedTimesData(W, X, n, k, d);
      const D = codesGram(W, n, k);
      for (let j = 0; j < k; j++) {
        for (let t = 0; t < d; t++) {
          let denominator = 0;
          for (let l = 0; l < k; l++) denominator += D[j * k + l] * H[l * d + t];
          H[j * d + t] *= C[j * d + t] / (denominator + EPS);
        }
      }
      normaliseAtoms(W, H, n, k, d);
      // W ← W ⊙ XHᵀ / (W HHᵀ + λ)
      const XHt = multiplyTransposed(X, H, n, k, d);
      const B = gram(H, k, d);
      for (let i = 0; i < n; i++) {
        const o = i * k;
        for (let j = 0; j < k; j++) {
          let denominator = 0;
          for (let l = 0; l < k; l++) denominator += W[o + l] * B[l * k + j];
          W[o + j] *= Math.max(0, XHt[o + j]) / (denominator + sparsity + EPS);
        }
      }
    }
    options.onIteration?.(iteration);
  }
  return { dictionary: H, codes: W, components: k, dims: d };
}

/** ½‖X − WH‖² + sparsity·Σ|W|, computed directly (the slow, obvious way; for tests and diagnostics). */
export function nmfObjective(X: Float32Array, W: Float32Array, H: Float32Array, n: number, k: number, d: number, sparsity = 0): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      let r = X[i * d + t];
      for (let j = 0; j < k; j++) r -= W[i * k + j] * H[j * d + t];
      loss += r * r;
    }
  }
  let l1 = 0;
  for (let i = 0; i < W.length; i++) l1 += W[i];
  return 0.5 * loss + sparsity * l1;
}

/** Inverse of a symmetric positive semi-definite k × k matrix (Gauss–Jordan, with a tiny ridge for safety). */
export function invertSymmetric(matrix: Float64Array, k: number): Float64Array {
  const a = Float64Array.from(matrix);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += a[i * k + i];
  for (let i = 0; i < k; i++) a[i * k + i] += 1e-9 * (trace / k) + 1e-12;
  const inverse = new Float64Array(k * k);
  for (let i = 0; i < k; i++) inverse[i * k + i] = 1;
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r * k + c]) > Math.abs(a[pivot * k + c])) pivot = r;
    if (pivot !== c) {
      for (let t = 0; t < k; t++) {
        [a[c * k + t], a[pivot * k + t]] = [a[pivot * k + t], a[c * k + t]];
        [inverse[c * k + t], inverse[pivot * k + t]] = [inverse[pivot * k + t], inverse[c * k + t]];
      }
    }
    const p = a[c * k + c];
    for (let t = 0; t < k; t++) { a[c * k + t] /= p; inverse[c * k + t] /= p; }
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r * k + c];
      if (f === 0) continue;
      for (let t = 0; t < k; t++) { a[r * k + t] -= f * a[c * k + t]; inverse[r * k + t] -= f * inverse[c * k + t]; }
    }
  }
  return inverse;
}

/**
 * A fixed dictionary ready to encode new rows fast: the Gram matrix is precomputed, and the squared
 * reconstruction error comes from ‖x‖² − 2w·Hx + wᵀ(HHᵀ)w without building the reconstruction.
 */
export class NmfEncoder {
  readonly k: number;
  readonly d: number;
  private readonly dictionary: Float32Array;
  private readonly gramMatrix: Float64Array;
  constructor(dictionary: Float32Array, k: number, d: number, private readonly sparsity = 0, private readonly sweeps = 8) {
    this.k = k;
    this.d = d;
    this.dictionary = dictionary;
    this.gramMatrix = gram(dictionary, k, d);
    this.gramInverse = invertSymmetric(this.gramMatrix, k);
  }
  private readonly gramInverse: Float64Array;

  /** Codes (n × k) of rows X (n × d). */
  encode(X: Float32Array, n: number): { codes: Float32Array; XHt: Float64Array } {
    const { k, d } = this;
    const XHt = multiplyTransposed(X, this.dictionary, n, k, d);
    const W = new Float32Array(n * k);
    // Start from the unconstrained least-squares codes clipped at zero (most are positive already for
    // patches like the training ones); a few coordinate sweeps then settle the active set.
    const inverse = this.gramInverse;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let j = 0; j < k; j++) {
        let v = 0;
        for (let l = 0; l < k; l++) v += inverse[j * k + l] * XHt[o + l];
        W[o + j] = v > 0 ? v : 0;
      }
    }
    updateCodesHals(W, XHt, this.gramMatrix, n, k, this.sparsity, this.sweeps);
    return { codes: W, XHt };
  }

  /** Reconstructions (n × d) of rows from their codes: W·H. */
  reconstruct(codes: Float32Array, n: number): Float32Array {
    const { k, d } = this;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < k; j++) {
        const w = codes[i * k + j];
        if (w === 0) continue;
        const h = j * d;
        for (let t = 0; t < d; t++) out[o + t] += w * this.dictionary[h + t];
      }
    }
    return out;
  }

  /** Squared reconstruction error of each row of X. */
  reconstructionErrors(X: Float32Array, n: number): Float32Array {
    const { k, d } = this;
    const { codes, XHt } = this.encode(X, n);
    const G = this.gramMatrix;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let t = 0, o = i * d; t < d; t++) norm += X[o + t] * X[o + t];
      let cross = 0, quadratic = 0;
      for (let a = 0; a < k; a++) {
        const wa = codes[i * k + a];
        if (wa === 0) continue;
        cross += wa * XHt[i * k + a];
        let row = 0;
        for (let b = 0; b < k; b++) row += G[a * k + b] * codes[i * k + b];
        quadratic += wa * row;
      }
      out[i] = Math.max(0, norm - 2 * cross + quadratic);
    }
    return out;
  }
}
