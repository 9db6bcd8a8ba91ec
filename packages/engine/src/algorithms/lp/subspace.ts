import { Random } from '../../kernels/random.ts';
import { symmetricEigen } from '../../kernels/pca.ts';

/**
 * Principal subspace of a few rows, by subspace (block power) iteration: LP fits one per inspection cell,
 * where only the top few directions are wanted and a full eigen-decomposition would be wasted work.
 * `rows` is n × d row-major and already centred. Returns k orthonormal directions (k × d) and their
 * variances, largest first.
 */
export function principalSubspace(rows: Float32Array, n: number, d: number, wanted: number, random: Random, iterations = 4): { basis: Float32Array; variances: Float32Array } {
  wanted = Math.max(0, Math.min(wanted, n - 1, d));
  if (wanted === 0) return { basis: new Float32Array(0), variances: new Float32Array(0) };
  // A few extra directions make a few iterations enough for the wanted ones (randomised SVD's oversampling).
  const k = Math.min(wanted + 4, n, d);
  const basis = new Float32Array(k * d);
  for (let i = 0; i < basis.length; i++) basis[i] = random.normal();
  orthonormalise(basis, k, d);
  const projections = new Float64Array(n * k);
  const next = new Float64Array(k * d);
  for (let iteration = 0; iteration < iterations; iteration++) {
    project(rows, n, d, basis, k, projections);
    // next = Xᵀ (X Q): the covariance applied to the current directions
    next.fill(0);
    for (let r = 0; r < n; r++) {
      const row = r * d;
      for (let c = 0; c < k; c++) {
        const w = projections[r * k + c];
        if (w === 0) continue;
        const o = c * d;
        for (let j = 0; j < d; j++) next[o + j] += w * rows[row + j];
      }
    }
    for (let i = 0; i < basis.length; i++) basis[i] = next[i];
    orthonormalise(basis, k, d);
  }
  // Rayleigh–Ritz: rotate to the eigenvectors of the small k × k problem, so variances are exact on Q.
  project(rows, n, d, basis, k, projections);
  const small = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) small[a * k + b] += projections[r * k + a] * projections[r * k + b];
  }
  const { values, vectors } = symmetricEigen(small, k, { tolerance: 1e-20 });
  const rotated = new Float32Array(wanted * d);
  const variances = new Float32Array(wanted);
  for (let c = 0; c < wanted; c++) {
    for (let a = 0; a < k; a++) {
      const w = vectors[c * k + a];
      for (let j = 0; j < d; j++) rotated[c * d + j] += w * basis[a * d + j];
    }
    variances[c] = Math.max(0, values[c]) / Math.max(1, n - 1);
  }
  return { basis: rotated, variances };
}

function project(rows: Float32Array, n: number, d: number, basis: Float32Array, k: number, out: Float64Array): void {
  for (let r = 0; r < n; r++) {
    const row = r * d;
    for (let c = 0; c < k; c++) {
      let s = 0;
      const o = c * d;
      for (let j = 0; j < d; j++) s += rows[row + j] * basis[o + j];
      out[r * k + c] = s;
    }
  }
}

/** Modified Gram–Schmidt on k rows of length d; a row that collapses is replaced by a unit axis. */
export function orthonormalise(vectors: Float32Array | Float64Array, k: number, d: number): void {
  for (let a = 0; a < k; a++) {
    const oa = a * d;
    for (let b = 0; b < a; b++) {
      const ob = b * d;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += vectors[oa + j] * vectors[ob + j];
      for (let j = 0; j < d; j++) vectors[oa + j] -= dot * vectors[ob + j];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += vectors[oa + j] * vectors[oa + j];
    norm = Math.sqrt(norm);
    if (norm < 1e-12) {
      vectors.fill(0, oa, oa + d);
      vectors[oa + (a % d)] = 1;
      if (a > 0) orthonormalise(vectors, a + 1, d);
      continue;
    }
    for (let j = 0; j < d; j++) vectors[oa + j] /= norm;
  }
}
