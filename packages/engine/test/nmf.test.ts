import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiplyTransposed, nmf, nmfObjective, NmfEncoder, type NmfSolver } from '../src/kernels/nmf.ts';
import { Random } from '../src/kernels/random.ts';

/** Non-negative rows made of `rank` hidden non-negative atoms, plus a little non-negative noise. */
function lowRankData(n: number, d: number, rank: number, noise: number, seed: number): Float32Array {
  const random = new Random(seed);
  const atoms = Array.from({ length: rank }, () => Float32Array.from({ length: d }, () => (random.next() < 0.4 ? random.next() : 0)));
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < rank; j++) {
      const w = random.next() < 0.5 ? random.next() * 2 : 0;
      for (let t = 0; t < d; t++) X[i * d + t] += w * atoms[j][t];
    }
    for (let t = 0; t < d; t++) X[i * d + t] += random.next() * noise;
  }
  return X;
}

test('multiplyTransposed matches the triple loop', () => {
  const random = new Random(1);
  const a = 5, b = 4, m = 7;
  const A = Float32Array.from({ length: a * m }, () => random.normal());
  const B = Float32Array.from({ length: b * m }, () => random.normal());
  const C = multiplyTransposed(A, B, a, b, m);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) {
    let s = 0;
    for (let t = 0; t < m; t++) s += A[i * m + t] * B[j * m + t];
    assert.ok(Math.abs(C[i * b + j] - s) < 1e-9);
  }
});

for (const solver of ['hals', 'mu'] as NmfSolver[]) {
  test(`NMF (${solver}) objective never increases over iterations and ends well below its start`, () => {
    const n = 120, d = 16, k = 4;
    const X = lowRankData(n, d, k, 0.05, 2);
    const objectives: number[] = [];
    for (let iterations = 0; iterations <= 12; iterations++) {
      const { codes, dictionary } = nmf(X, n, d, { components: k, iterations, solver, seed: 3 });
      for (const v of [...codes, ...dictionary]) assert.ok(v >= 0, 'factors stay non-negative');
      objectives.push(nmfObjective(X, codes, dictionary, n, k, d));
    }
    for (let i = 1; i < objectives.length; i++) {
      assert.ok(objectives[i] <= objectives[i - 1] * (1 + 1e-5), `iteration ${i}: ${objectives[i]} > ${objectives[i - 1]}`);
    }
    assert.ok(objectives.at(-1)! < objectives[0] * 0.9, `${objectives[0]} → ${objectives.at(-1)}`);
  });
}

test('HALS recovers an exactly low-rank non-negative matrix', () => {
  const n = 100, d = 12, k = 3;
  const X = lowRankData(n, d, k, 0, 4);
  const { codes, dictionary } = nmf(X, n, d, { components: k, iterations: 300, solver: 'hals', seed: 5 });
  let norm = 0;
  for (const v of X) norm += v * v;
  const relative = Math.sqrt((2 * nmfObjective(X, codes, dictionary, n, k, d)) / norm);
  assert.ok(relative < 0.02, `relative error ${relative}`);
});

test('the encoder solves the non-negative least squares of each row (KKT) and its errors match explicit reconstruction', () => {
  const n = 40, d = 10, k = 4;
  const X = lowRankData(n, d, 6, 0.1, 6);
  const { dictionary } = nmf(X, n, d, { components: k, iterations: 20, seed: 7 });
  const encoder = new NmfEncoder(dictionary, k, d, 0, 300);
  const { codes } = encoder.encode(X, n);
  const G = multiplyTransposed(dictionary, dictionary, k, k, d);
  const XHt = multiplyTransposed(X, dictionary, n, k, d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      // Gradient of ½‖x − wH‖² in w_j: zero where w_j > 0, non-negative where w_j = 0.
      let g = -XHt[i * k + j];
      for (let l = 0; l < k; l++) g += codes[i * k + l] * G[l * k + j];
      if (codes[i * k + j] > 1e-6) assert.ok(Math.abs(g) < 1e-4, `row ${i} atom ${j}: gradient ${g}`);
      else assert.ok(g > -1e-4, `row ${i} atom ${j}: could improve by growing (${g})`);
    }
  }
  const errors = encoder.reconstructionErrors(X, n);
  const rebuilt = encoder.reconstruct(codes, n);
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let t = 0; t < d; t++) e += (X[i * d + t] - rebuilt[i * d + t]) ** 2;
    assert.ok(Math.abs(errors[i] - e) < 1e-4 * (1 + e), `row ${i}: ${errors[i]} vs ${e}`);
  }
});
