import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centredProducts, multiplyTransposed } from '../src/kernels/matrix.ts';
import { Random } from '../src/kernels/random.ts';

test('A·Bᵀ equals the obvious triple loop for every shape, block edges included, and can accumulate', () => {
  const random = new Random(12);
  for (const [m, n, k] of [[1, 1, 1], [2, 4, 3], [3, 5, 7], [8, 9, 2], [17, 6, 33], [5, 1, 4]]) {
    const A = Float32Array.from({ length: m * k }, () => random.normal());
    const B = Float32Array.from({ length: n * k }, () => random.normal());
    const start = Float32Array.from({ length: m * n }, () => random.normal());
    const product = multiplyTransposed(A, B, m, n, k, new Float32Array(m * n));
    const accumulated = multiplyTransposed(A, B, m, n, k, Float32Array.from(start), true);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let expected = 0;
      for (let t = 0; t < k; t++) expected += A[i * k + t] * B[j * k + t];
      assert.ok(Math.abs(product[i * n + j] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${m}×${n}×${k} at ${i},${j}`);
      const sum = start[i * n + j] + expected;
      assert.ok(Math.abs(accumulated[i * n + j] - sum) <= 1e-5 * Math.max(1, Math.abs(sum)), `accumulate ${m}×${n}×${k} at ${i},${j}`);
    }
  }
});

test('centred products equal the obvious loop bit for bit, into any column of a wider output, block edges included', () => {
  const random = new Random(13);
  for (const [n, k, m] of [[1, 1, 1], [4, 3, 3], [5, 7, 4], [9, 30, 30], [7, 5, 2], [13, 4, 11]]) {
    const rows = Float32Array.from({ length: n * k }, () => random.normal() * 5);
    const offset = Float32Array.from({ length: k }, () => random.normal());
    const matrix = Float32Array.from({ length: m * k }, () => random.normal());
    const stride = m + 3, at = 2;
    const out = centredProducts(rows, n, k, offset, matrix, m, new Float32Array(n * stride).fill(-7), stride, at);
    const expected = new Float32Array(n * stride).fill(-7);
    for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.fround(rows[i * k + j] - offset[j]) * matrix[c * k + j];
      expected[i * stride + at + c] = sum;
    }
    assert.deepEqual(out, expected, `${n}×${k} by ${m}`);
  }
});
