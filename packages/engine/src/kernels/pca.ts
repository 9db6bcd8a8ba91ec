/**
 * Principal components of rows of `dims` values: the eigenvectors of their covariance, by cyclic Jacobi
 * rotations (exact to rounding for the small, symmetric matrices of patch features).
 */
export interface Pca {
  dims: number;
  mean: Float32Array;
  /** Component c is row c (dims values), in order of decreasing variance. */
  components: Float32Array;
  /** Variance along each component. */
  variances: Float32Array;
}

export interface SymmetricEigenOptions {
  /** Most Jacobi sweeps; each one rotates every off-diagonal pair once. */
  maxSweeps?: number;
  /** Stop once the sum of squared upper off-diagonal entries is below this. */
  tolerance?: number;
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations: eigenvalues
 * descending, eigenvector r is row r of `vectors`. The one solver used by PCA, patch descriptors and LP.
 */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
  { maxSweeps = 50, tolerance = 1e-22 }: SymmetricEigenOptions = {},
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < tolerance) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x]);
  const values = new Float64Array(n), vectors = new Float64Array(n * n);
  order.forEach((col, r) => {
    values[r] = a[col * n + col];
    for (let k = 0; k < n; k++) vectors[r * n + k] = v[k * n + col];
  });
  return { values, vectors };
}

/** Fits the principal components of the rows (at most `maxRows` of them, evenly spaced, are used). */
export function fitPca(data: Float32Array | Float64Array, dims: number, maxRows = 50000): Pca {
  const n = data.length / dims;
  const step = Math.max(1, Math.floor(n / maxRows));
  const mean = new Float64Array(dims);
  let used = 0;
  for (let i = 0; i < n; i += step, used++) for (let j = 0; j < dims; j++) mean[j] += data[i * dims + j];
  for (let j = 0; j < dims; j++) mean[j] /= Math.max(1, used);
  const cov = new Float64Array(dims * dims);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i += step) {
    for (let j = 0; j < dims; j++) row[j] = data[i * dims + j] - mean[j];
    for (let j = 0; j < dims; j++) {
      const rj = row[j];
      for (let k = j; k < dims; k++) cov[j * dims + k] += rj * row[k];
    }
  }
  for (let j = 0; j < dims; j++) {
    for (let k = j; k < dims; k++) {
      cov[j * dims + k] /= Math.max(1, used - 1);
      cov[k * dims + j] = cov[j * dims + k];
    }
  }
  const { values, vectors } = symmetricEigen(cov, dims);
  return { dims, mean: Float32Array.from(mean), components: Float32Array.from(vectors), variances: Float32Array.from(values, (x) => Math.max(0, x)) };
}

/**
 * Projects rows onto the first `keep` components (after centring). With keep = dims this is a rotation:
 * distances between rows are unchanged, but the leading coordinates carry most of them.
 */
export function projectPca(pca: Pca, data: Float32Array, keep = pca.dims): Float32Array {
  const { dims, mean, components } = pca;
  const n = data.length / dims;
  const out = new Float32Array(n * keep);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dims; j++) row[j] = data[i * dims + j] - mean[j];
    for (let c = 0; c < keep; c++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += row[j] * components[c * dims + j];
      out[i * keep + c] = s;
    }
  }
  return out;
}
