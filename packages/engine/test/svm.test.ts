import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitOneClassSvm, svmDecision, svmLogMargin } from '../src/kernels/one-class-svm.ts';
import { Random } from '../src/kernels/random.ts';

function gaussianCloud(n: number, dims: number, random: Random): Float32Array {
  const data = new Float32Array(n * dims);
  for (let i = 0; i < data.length; i++) data[i] = random.normal();
  return data;
}

/** Σ αᵢ exp(−γ‖svᵢ − x‖²) − ρ, written out in double precision. */
function slowDecision(vectors: Float32Array, alphas: Float32Array, gamma: number, rho: number, x: number[]): number {
  let sum = 0;
  for (let s = 0; s < alphas.length; s++) {
    let d = 0;
    for (let k = 0; k < x.length; k++) d += (vectors[s * x.length + k] - x[k]) ** 2;
    sum += alphas[s] * Math.exp(-gamma * d);
  }
  return sum - rho;
}

test('the decision function equals a slow direct evaluation over the support vectors', () => {
  const random = new Random(1);
  const dims = 3;
  const model = fitOneClassSvm(gaussianCloud(300, dims, random), dims, { nu: 0.1 });
  const queries = gaussianCloud(50, dims, random).map((v) => v * 2);
  const fast = svmDecision(model, queries);
  const margin = svmLogMargin(model, queries);
  for (let q = 0; q < 50; q++) {
    const x = Array.from(queries.subarray(q * dims, (q + 1) * dims));
    const slow = slowDecision(model.vectors, model.alphas, model.gamma, model.rho, x);
    assert.ok(Math.abs(fast[q] - slow) < 1e-4, `query ${q}: ${fast[q]} vs ${slow}`);
    assert.ok(Math.abs(margin[q] - (Math.log(model.rho) - Math.log(slow + model.rho))) < 1e-4, `log margin ${q}`);
  }
});

test('the solution satisfies the ν-properties: Σα = νn, 0 < α ≤ 1, ≤ ν outside, ≥ ν support vectors', () => {
  const random = new Random(2);
  const n = 400, dims = 2;
  const data = gaussianCloud(n, dims, random);
  for (const nu of [0.05, 0.2]) {
    const model = fitOneClassSvm(data, dims, { nu, tolerance: 1e-5 });
    const sum = model.alphas.reduce((s, a) => s + a, 0);
    assert.ok(Math.abs(sum - nu * n) < 1e-3, `Σα = ${sum}, νn = ${nu * n}`);
    for (const a of model.alphas) assert.ok(a > 0 && a <= 1 + 1e-6);
    const f = svmDecision(model, data);
    const outside = f.filter((v) => v < -1e-3).length / n;
    assert.ok(outside <= nu + 0.01, `ν = ${nu}: ${outside} of training points outside`);
    assert.ok(model.alphas.length / n >= nu - 0.01, `ν = ${nu}: ${model.alphas.length} support vectors`);
  }
});

test('points far from the data fall outside the boundary, the centre inside; the log margin keeps growing', () => {
  const random = new Random(3);
  const model = fitOneClassSvm(gaussianCloud(300, 2, random), 2, { nu: 0.1 });
  const [centre, far, farther] = svmDecision(model, Float32Array.from([0, 0, 4, 4, 40, 40]));
  assert.ok(centre > 0, `centre ${centre}`);
  assert.ok(far < 0 && farther < 0);
  const [, m4, m40] = svmLogMargin(model, Float32Array.from([0, 0, 4, 4, 40, 40]));
  assert.ok(Number.isFinite(m40) && m40 > m4 * 10, `${m4} ${m40}`);
});

test('a tiny kernel cache gives the same solution as a large one', () => {
  const random = new Random(4);
  const data = gaussianCloud(200, 3, random);
  const big = fitOneClassSvm(data, 3, { nu: 0.1 });
  const small = fitOneClassSvm(data, 3, { nu: 0.1, cacheBytes: 4 * 200 * 3 });
  assert.deepEqual(small.alphas, big.alphas);
  assert.equal(small.rho, big.rho);
});
