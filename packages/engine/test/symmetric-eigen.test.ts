import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen } from '../src/kernels/pca.ts';
import { Random } from '../src/kernels/random.ts';

/** A random symmetric n×n matrix (row-major), entries standard normal. */
function randomSymmetric(n: number, random: Random): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = random.normal();
  return m;
}

/** The slow, obvious check: V Λ Vᵀ, summed entry by entry (vectors are rows of V). */
function reconstruct(values: Float64Array, vectors: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let r = 0; r < n; r++) s += vectors[r * n + i] * values[r] * vectors[r * n + j];
    out[i * n + j] = s;
  }
  return out;
}

test('symmetric eigen-decomposition rebuilds A = VΛVᵀ with orthonormal vectors and descending values', () => {
  const random = new Random(11);
  for (const n of [1, 2, 5, 12, 30]) {
    const a = randomSymmetric(n, random);
    const { values, vectors } = symmetricEigen(a, n);
    for (let r = 1; r < n; r++) assert.ok(values[r - 1] >= values[r], `n=${n}: values descending at ${r}`);
    const rebuilt = reconstruct(values, vectors, n);
    for (let k = 0; k < n * n; k++) assert.ok(Math.abs(rebuilt[k] - a[k]) < 1e-9, `n=${n}: entry ${k} ${rebuilt[k]} vs ${a[k]}`);
    for (let r = 0; r < n; r++) for (let s = 0; s < n; s++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[r * n + k] * vectors[s * n + k];
      assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-9, `n=${n}: vectors ${r}·${s} = ${dot}`);
    }
  }
});

test('symmetric eigen-decomposition: A·v = λ·v for each row vector; a diagonal matrix gives its sorted diagonal', () => {
  const random = new Random(12);
  const n = 9;
  const a = randomSymmetric(n, random);
  const { values, vectors } = symmetricEigen(a, n);
  for (let r = 0; r < n; r++) for (let i = 0; i < n; i++) {
    let av = 0;
    for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[r * n + k];
    assert.ok(Math.abs(av - values[r] * vectors[r * n + i]) < 1e-9);
  }
  const diagonal = new Float64Array(16);
  [3, -1, 7, 0.5].forEach((x, i) => (diagonal[i * 4 + i] = x));
  assert.deepEqual(Array.from(symmetricEigen(diagonal, 4).values), [7, 3, 0.5, -1]);
});

test('the sweep limit and tolerance options are honoured: one sweep leaves a 30×30 matrix unconverged', () => {
  const a = randomSymmetric(30, new Random(13));
  const rebuiltError = (options: Parameters<typeof symmetricEigen>[2]) => {
    const { values, vectors } = symmetricEigen(a, 30, options);
    const rebuilt = reconstruct(values, vectors, 30);
    // Jacobi rotations keep V orthonormal, so VΛVᵀ misses A by exactly the off-diagonal part left over.
    let worst = 0;
    for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(rebuilt[k] - a[k]));
    return worst;
  };
  assert.ok(rebuiltError({ maxSweeps: 1 }) > 1e-3);
  assert.ok(rebuiltError({ maxSweeps: 60, tolerance: 1e-20 }) < 1e-9);
});
