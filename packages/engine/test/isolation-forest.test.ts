import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averagePathLength, fitIsolationForest, isolationScores, meanPathLengths, type IsolationForest,
} from '../src/kernels/isolation-forest.ts';
import { Random } from '../src/kernels/random.ts';

test('c(n) matches its definition 2·H(n−1) − 2(n−1)/n, with hand-computed small cases', () => {
  assert.equal(averagePathLength(0), 0);
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  // c(3) = 2(ln 2 + γ) − 4/3
  assert.ok(Math.abs(averagePathLength(3) - (2 * (Math.LN2 + 0.5772156649015329) - 4 / 3)) < 1e-12);
  // Against the exact harmonic number: the ln + γ approximation is within 1/(n−1) of it.
  for (const n of [10, 100, 256, 1000]) {
    let harmonic = 0;
    for (let i = 1; i < n; i++) harmonic += 1 / i;
    const exact = 2 * harmonic - (2 * (n - 1)) / n;
    assert.ok(Math.abs(averagePathLength(n) - exact) < 1 / (n - 1), `n = ${n}`);
  }
});

test('path lengths of a hand-built tree: depth plus c(size) of the leaf', () => {
  // Root: x0 < 0.5 → leaf holding 3 points; else node x1 < 0.8 → leaves of 1 and 2 points.
  const forest: IsolationForest = {
    dims: 2, trees: 1, samplesPerTree: 6,
    treeStart: Int32Array.from([0]),
    feature: Int32Array.from([0, -1, 1, -1, -1]),
    threshold: Float32Array.from([0.5, averagePathLength(3), 0.8, averagePathLength(1), averagePathLength(2)]),
    left: Int32Array.from([1, -1, 3, -1, -1]),
  };
  const points = Float32Array.from([0.2, 0.0, 0.9, 0.1, 0.9, 0.95]);
  const lengths = meanPathLengths(forest, points);
  assert.ok(Math.abs(lengths[0] - (1 + averagePathLength(3))) < 1e-6);
  assert.equal(lengths[1], 2);
  assert.equal(lengths[2], 3);
  const scores = isolationScores(forest, points);
  assert.ok(Math.abs(scores[1] - 2 ** (-2 / averagePathLength(6))) < 1e-6);
});

test('two distinct points: one split isolates both, so each scores 2^(−1/c(2)) = 0.5', () => {
  const forest = fitIsolationForest(Float32Array.from([0, 0, 1, 1]), 2, { trees: 20, seed: 3 });
  assert.deepEqual(Array.from(meanPathLengths(forest, Float32Array.from([0, 0, 1, 1]))), [1, 1]);
  assert.deepEqual(Array.from(isolationScores(forest, Float32Array.from([0, 0]))), [0.5]);
});

test('a far point is isolated sooner than points of the cluster; same seed, same forest', () => {
  const random = new Random(5);
  const n = 500, dims = 4;
  const data = new Float32Array(n * dims);
  for (let i = 0; i < data.length; i++) data[i] = random.normal();
  const forest = fitIsolationForest(data, dims, { trees: 100, maxSamples: 256, seed: 9 });
  const queries = Float32Array.from([0, 0, 0, 0, 6, -6, 6, 0]);
  const [inlier, outlier] = isolationScores(forest, queries);
  assert.ok(inlier < 0.5, `inlier ${inlier}`);
  assert.ok(outlier > 0.65, `outlier ${outlier}`);
  // Every training point's path stays within the depth limit plus c(ψ) of an unsplit leaf.
  const lengths = meanPathLengths(forest, data);
  for (const h of lengths) assert.ok(h > 0 && h <= 8 + averagePathLength(256));
  const again = fitIsolationForest(data, dims, { trees: 100, maxSamples: 256, seed: 9 });
  assert.deepEqual(again.threshold, forest.threshold);
  assert.deepEqual(again.feature, forest.feature);
});
