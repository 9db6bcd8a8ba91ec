import { Random } from '../../kernels/random.ts';

/**
 * The top-k principal directions of rows X (n × d) by subspace iteration on the covariance
 * (d × d, built once): enough for the k ≤ 30 that RC uses, and no general eigen-solver needed.
 */
export function pcaBasis(X: Float32Array, n: number, d: number, k: number, seed: number, iterations = 40): { mean: Float32Array; basis: Float32Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += X[i * d + t];
  for (let t = 0; t < d; t++) mean[t] /= Math.max(1, n);
  const covariance = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) centred[t] = X[i * d + t] - mean[t];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) covariance[o + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) covariance[b * d + a] = covariance[a * d + b];
  const rank = Math.min(k, d);
  const random = new Random(seed);
  let Q = new Float64Array(rank * d).map(() => random.normal());
  orthonormaliseRows(Q, rank, d);
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(rank * d);
    for (let j = 0; j < rank; j++) {
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += covariance[a * d + b] * Q[j * d + b];
        next[j * d + a] = s;
      }
    }
    orthonormaliseRows(next, rank, d);
    Q = next;
  }
  return { mean: Float32Array.from(mean), basis: Float32Array.from(Q) };
}

/** Modified Gram–Schmidt on the rows. */
function orthonormaliseRows(Q: Float64Array, rows: number, d: number): void {
  for (let j = 0; j < rows; j++) {
    for (let l = 0; l < j; l++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += Q[j * d + t] * Q[l * d + t];
      for (let t = 0; t < d; t++) Q[j * d + t] -= dot * Q[l * d + t];
    }
    let norm = 0;
    for (let t = 0; t < d; t++) norm += Q[j * d + t] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let t = 0; t < d; t++) Q[j * d + t] /= norm;
  }
}

/** Squared distance of each row of X to the affine subspace mean + span(basis). */
export function pcaReconstructionErrors(X: Float32Array, n: number, d: number, mean: Float32Array, basis: Float32Array, k: number): Float32Array {
  const out = new Float32Array(n);
  const centred = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let t = 0; t < d; t++) {
      const v = X[i * d + t] - mean[t];
      centred[t] = v;
      norm += v * v;
    }
    let projected = 0;
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let t = 0, o = j * d; t < d; t++) dot += centred[t] * basis[o + t];
      projected += dot * dot;
    }
    out[i] = Math.max(0, norm - projected);
  }
  return out;
}

