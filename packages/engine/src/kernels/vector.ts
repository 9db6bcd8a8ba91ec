/** Small vector kernels shared by the algorithms' numeric code. */

/**
 * Dot product of a[ao…ao+length) and b[bo…bo+length). Four partial sums break the dependency chain of one
 * accumulator (about twice as fast in V8); NMF uses it.
 */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, length: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
    s2 += a[ao + i + 2] * b[bo + i + 2];
    s3 += a[ao + i + 3] * b[bo + i + 3];
  }
  for (; i < length; i++) s0 += a[ao + i] * b[bo + i];
  return s0 + s1 + s2 + s3;
}

/** Squared Euclidean distance of a[ao…ao+dims) and b[bo…bo+dims). */
export function squaredDistance(a: Float32Array, ao: number, b: Float32Array, bo: number, dims: number): number {
  let s = 0;
  for (let k = 0; k < dims; k++) {
    const d = a[ao + k] - b[bo + k];
    s += d * d;
  }
  return s;
}
