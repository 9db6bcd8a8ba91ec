/**
 * C (m × n) = A (m × k) · Bᵀ, B being n × k: every entry a dot product of a row of A and a row of B, both
 * contiguous. Computed in 2 × 4 blocks of C, so that each value loaded from A serves four products and each
 * from B two (about twice as fast in V8 as one dot product per entry). `accumulate` adds to C instead.
 * Each entry is one float64 sum over k in order, rounded to float32 once.
 */
export function multiplyTransposed(
  A: Float32Array, B: Float32Array, m: number, n: number, k: number, C: Float32Array, accumulate = false,
): Float32Array {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = i * k, a1 = a0 + k;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let t = 0; t < k; t++) {
        const x0 = A[a0 + t], x1 = A[a1 + t];
        const y0 = B[b0 + t], y1 = B[b1 + t], y2 = B[b2 + t], y3 = B[b3 + t];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
      }
      const r0 = i * n + j, r1 = r0 + n;
      if (accumulate) {
        C[r0] += c00; C[r0 + 1] += c01; C[r0 + 2] += c02; C[r0 + 3] += c03;
        C[r1] += c10; C[r1 + 1] += c11; C[r1 + 2] += c12; C[r1 + 3] += c13;
      } else {
        C[r0] = c00; C[r0 + 1] = c01; C[r0 + 2] = c02; C[r0 + 3] = c03;
        C[r1] = c10; C[r1 + 1] = c11; C[r1 + 2] = c12; C[r1 + 3] = c13;
      }
    }
    for (; j < n; j++) {
      const b = j * k;
      let c0 = 0, c1 = 0;
      for (let t = 0; t < k; t++) {
        c0 += A[a0 + t] * B[b + t];
        c1 += A[a1 + t] * B[b + t];
      }
      if (accumulate) { C[i * n + j] += c0; C[(i + 1) * n + j] += c1; } else { C[i * n + j] = c0; C[(i + 1) * n + j] = c1; }
    }
  }
  for (; i < m; i++) {
    const a = i * k;
    for (let j = 0; j < n; j++) {
      const b = j * k;
      let c = 0;
      for (let t = 0; t < k; t++) c += A[a + t] * B[b + t];
      if (accumulate) C[i * n + j] += c; else C[i * n + j] = c;
    }
  }
  return C;
}

/**
 * An affine map of rows: `out[i · stride + at + c]` = Σⱼ (rows[i · k + j] − offset[j]) · matrix[c · k + j] for each of
 * the n rows and the m rows of `matrix`, each centred value rounded to float32 first, each entry one float64 sum over j
 * in order rounded to float32 once. Four rows against three matrix rows at a time: each value loaded serves three or
 * four products (about 1.5× as fast in V8 as four rows against one).
 */
export function centredProducts(
  rows: Float32Array, n: number, k: number, offset: Float32Array, matrix: Float32Array, m: number,
  out: Float32Array, stride: number, at: number,
): Float32Array {
  const centred = new Float32Array(4 * k);
  for (let i = 0; i < n; i += 4) {
    const group = Math.min(4, n - i);
    centred.fill(0);
    for (let g = 0; g < group; g++) for (let j = 0, r = (i + g) * k; j < k; j++) centred[g * k + j] = rows[r + j] - offset[j];
    const o0 = i * stride + at, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
    let c = 0;
    for (; c + 2 < m; c += 3) {
      const w0 = c * k, w1 = w0 + k, w2 = w1 + k;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let j = 0; j < k; j++) {
        const u = matrix[w0 + j], v = matrix[w1 + j], w = matrix[w2 + j];
        const x0 = centred[j], x1 = centred[k + j], x2 = centred[2 * k + j], x3 = centred[3 * k + j];
        a0 += x0 * u; a1 += x1 * u; a2 += x2 * u; a3 += x3 * u;
        b0 += x0 * v; b1 += x1 * v; b2 += x2 * v; b3 += x3 * v;
        d0 += x0 * w; d1 += x1 * w; d2 += x2 * w; d3 += x3 * w;
      }
      out[o0 + c] = a0; out[o0 + c + 1] = b0; out[o0 + c + 2] = d0;
      if (group > 1) { out[o1 + c] = a1; out[o1 + c + 1] = b1; out[o1 + c + 2] = d1; }
      if (group > 2) { out[o2 + c] = a2; out[o2 + c + 1] = b2; out[o2 + c + 2] = d2; }
      if (group > 3) { out[o3 + c] = a3; out[o3 + c + 1] = b3; out[o3 + c + 2] = d3; }
    }
    for (; c < m; c++) {
      for (let g = 0; g < group; g++) {
        let sum = 0;
        for (let j = 0; j < k; j++) sum += centred[g * k + j] * matrix[c * k + j];
        out[o0 + g * stride + c] = sum;
      }
    }
  }
  return out;
}
