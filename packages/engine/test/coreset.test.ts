import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bruteForceCoreset, greedyCoreset } from '../src/kernels/coreset.ts';
import { fitPca, projectPca, symmetricEigen } from '../src/kernels/pca.ts';
import { Random } from '../src/kernels/random.ts';

function randomPoints(n: number, dims: number, random: Random): Float32Array {
  return Float32Array.from({ length: n * dims }, () => random.normal() * (1 + random.int(3)));
}

test('greedy coreset chooses the same points as the obvious greedy k-center', () => {
  const random = new Random(4);
  for (const [n, dims, m] of [[200, 4, 20], [150, 12, 40], [60, 2, 60]] as const) {
    const points = randomPoints(n, dims, random);
    const fast = greedyCoreset(points, dims, m, { seed: 9 });
    const slow = bruteForceCoreset(points, dims, m, fast.selected[0]);
    assert.deepEqual(Array.from(fast.selected), Array.from(slow));
    // Every point's assignment is its nearest chosen point.
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      for (const c of slow) {
        let d = 0;
        for (let j = 0; j < dims; j++) d += (points[i * dims + j] - points[c * dims + j]) ** 2;
        best = Math.min(best, d);
      }
      assert.ok(Math.abs(fast.distance[i] - best) <= 1e-4 * Math.max(1, best));
    }
  }
});

/**
 * Greedy k-center by the book, scanning every point at every step: each one's distance to its nearest chosen point
 * (float32, as the coreset keeps it) and the next point the first farthest by index.
 */
function scanningCoreset(points: Float32Array, dims: number, m: number, first: number) {
  const n = points.length / dims;
  const selected = [first], assignment = new Int32Array(n), distance = new Float32Array(n).fill(Infinity);
  for (let s = 0; s < m; s++) {
    const c = selected[s];
    let farthest = -1, farthestDistance = -1;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < dims; j++) sum += (points[i * dims + j] - points[c * dims + j]) ** 2;
      if (sum < distance[i]) {
        distance[i] = sum;
        assignment[i] = s;
      }
      if (distance[i] > farthestDistance) {
        farthestDistance = distance[i];
        farthest = i;
      }
    }
    if (s + 1 < m) selected.push(farthest);
  }
  return { selected: Int32Array.from(selected), assignment, distance };
}

test('greedy coreset skipping whole clusters keeps every point\'s assignment and distance of a full scan, ties included', () => {
  const random = new Random(7);
  const dims = 6;
  // Clumps of different spreads, and exact copies of points (flat background patches): ties in distance.
  const centres = Array.from({ length: 12 }, () => Array.from({ length: dims }, () => random.normal() * 6));
  const points = new Float32Array(2500 * dims);
  for (let i = 0; i < 2500; i++) {
    const source = i % 5 === 0 && i > 0 ? i - 5 : -1;
    const c = centres[random.int(12)], spread = 0.1 + random.int(3);
    for (let j = 0; j < dims; j++) points[i * dims + j] = source >= 0 ? points[source * dims + j] : c[j] + random.normal() * spread;
  }
  for (const m of [1, 50, 400]) {
    const fast = greedyCoreset(points, dims, m, { seed: 3 });
    const slow = scanningCoreset(points, dims, m, fast.selected[0]);
    assert.deepEqual(fast.selected, slow.selected, `${m} chosen`);
    assert.deepEqual(fast.assignment, slow.assignment);
    assert.deepEqual(fast.distance, slow.distance);
  }
});

test('greedy coreset on anisotropic points (bounds along principal axes) keeps the choices of a full scan', () => {
  const random = new Random(11);
  const dims = 20;
  // Variance falling off along the coordinates, then turned, as PS's descriptors are: the leading axes carry most.
  const points = new Float32Array(3000 * dims);
  for (let i = 0; i < 3000; i++) {
    for (let j = 0; j < dims; j++) points[i * dims + j] = random.normal() * 8 / (1 + j);
    for (let j = 1; j < dims; j++) {
      const a = points[i * dims + j - 1], b = points[i * dims + j];
      points[i * dims + j - 1] = 0.8 * a - 0.6 * b;
      points[i * dims + j] = 0.6 * a + 0.8 * b;
    }
  }
  for (const m of [60, 600]) {
    const fast = greedyCoreset(points, dims, m, { seed: 2 });
    const slow = scanningCoreset(points, dims, m, fast.selected[0]);
    assert.deepEqual(fast.selected, slow.selected, `${m} chosen`);
    assert.deepEqual(fast.assignment, slow.assignment);
    assert.deepEqual(fast.distance, slow.distance);
  }
});

test('a projected coreset still covers the set far better than a random sample', () => {
  const random = new Random(5);
  const points = randomPoints(2000, 24, random);
  const coverRadius = (chosen: ArrayLike<number>) => {
    let worst = 0;
    for (let i = 0; i < 2000; i++) {
      let best = Infinity;
      for (let s = 0; s < chosen.length; s++) {
        let d = 0;
        for (let j = 0; j < 24; j++) d += (points[i * 24 + j] - points[chosen[s] * 24 + j]) ** 2;
        best = Math.min(best, d);
      }
      worst = Math.max(worst, best);
    }
    return Math.sqrt(worst);
  };
  const coreset = greedyCoreset(points, 24, 100, { seed: 1, projectTo: 8 }).selected;
  assert.equal(new Set(coreset).size, 100);
  assert.ok(coverRadius(coreset) < coverRadius(random.sample(2000, 100)));
});

test('Jacobi eigen-decomposition: A·v = λ·v, orthonormal vectors, descending values', () => {
  const random = new Random(6);
  const n = 9;
  const b = Float64Array.from({ length: n * n }, () => random.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
  const { values, vectors } = symmetricEigen(a, n);
  for (let r = 0; r < n; r++) {
    if (r > 0) assert.ok(values[r] <= values[r - 1] + 1e-9);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[r * n + k];
      assert.ok(Math.abs(av - values[r] * vectors[r * n + i]) < 1e-8);
    }
    for (let s = 0; s < n; s++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += vectors[r * n + k] * vectors[s * n + k];
      assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-9);
    }
  }
});

test('a full PCA projection is a rotation: distances are kept, variance comes first', () => {
  const random = new Random(7);
  const dims = 6;
  const data = Float32Array.from({ length: 500 * dims }, (_, i) => random.normal() * (1 + (i % dims)));
  const pca = fitPca(data, dims);
  const projected = projectPca(pca, data);
  for (let t = 0; t < 50; t++) {
    const i = random.int(500), j = random.int(500);
    let before = 0, after = 0;
    for (let k = 0; k < dims; k++) {
      before += (data[i * dims + k] - data[j * dims + k]) ** 2;
      after += (projected[i * dims + k] - projected[j * dims + k]) ** 2;
    }
    assert.ok(Math.abs(before - after) < 1e-3 * Math.max(1, before));
  }
  for (let c = 1; c < dims; c++) assert.ok(pca.variances[c] <= pca.variances[c - 1]);
  assert.ok(pca.variances[0] > 25 && pca.variances[dims - 1] < 2.5);
});
