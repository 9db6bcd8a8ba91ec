import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bruteForceKnn, buildKnnIndex, KnnSearcher, searchKnn } from '../src/kernels/knn.ts';
import { Random } from '../src/kernels/random.ts';
import { squaredDistance } from '../src/kernels/vector.ts';

/** Points in clusters of different spreads (as patch features are), plus uniform noise. */
function clustered(n: number, dims: number, random: Random): Float32Array {
  const centres = Array.from({ length: 7 }, () => Array.from({ length: dims }, () => random.normal() * 5));
  const out = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    const uniform = random.next() < 0.1;
    const c = centres[random.int(centres.length)];
    const spread = 0.2 + random.int(3);
    for (let j = 0; j < dims; j++) out[i * dims + j] = uniform ? (random.next() - 0.5) * 20 : c[j] + random.normal() * spread;
  }
  return out;
}

function assertSameNeighbours(fast: { indices: Int32Array; distances: Float32Array }, slow: { indices: Int32Array; distances: Float32Array }) {
  assert.equal(fast.distances.length, slow.distances.length);
  for (let i = 0; i < slow.distances.length; i++) {
    // Ties may pick a different point at the same distance: distances must agree exactly (to rounding).
    assert.ok(Math.abs(fast.distances[i] - slow.distances[i]) <= 1e-4 * Math.max(1, slow.distances[i]),
      `neighbour ${i}: ${fast.distances[i]} (index ${fast.indices[i]}) vs ${slow.distances[i]} (index ${slow.indices[i]})`);
  }
}

test('exact k-NN search equals brute force on random clustered and uniform data', () => {
  const random = new Random(1);
  for (const [n, dims, k, leafSize] of [[500, 8, 1, undefined], [800, 30, 3, undefined], [300, 5, 5, 1], [1000, 16, 2, 64], [50, 3, 1, 50]] as const) {
    const points = clustered(n, dims, random);
    const queries = clustered(200, dims, random);
    const index = buildKnnIndex(points, dims, { leafSize });
    assertSameNeighbours(searchKnn(index, queries, k), bruteForceKnn(points, dims, queries, k));
  }
});

test('searching the points among themselves can exclude each point itself', () => {
  const random = new Random(2);
  const points = clustered(400, 6, random);
  const index = buildKnnIndex(points, 6);
  const fast = searchKnn(index, points, 3, { excludeSelf: true });
  assertSameNeighbours(fast, bruteForceKnn(points, 6, points, 3, { excludeSelf: true }));
  for (let q = 0; q < 400; q++) for (let j = 0; j < 3; j++) assert.notEqual(fast.indices[q * 3 + j], q);
});

test('a searcher passes over the points its skip rule names, as if the index lacked them (plain and turned trees)', () => {
  const random = new Random(12);
  // Standardised-like points (turned tree) and principal-like ones (the index's own tree).
  for (const [points, dims] of [[clustered(1200, 12, random), 12], [clustered(600, 6, random).map((v, i) => v * 0.6 ** (i % 6)), 6]] as const) {
    const index = buildKnnIndex(points, dims);
    const searcher = new KnnSearcher(index, 3);
    const queries = clustered(60, dims, random);
    for (let q = 0; q < 60; q++) {
      // Skip every point whose index shares the query's residue mod 3.
      searcher.skip = (id) => id % 3 === q % 3;
      searcher.search(queries, q * dims);
      const kept = Array.from({ length: points.length / dims }, (_, i) => i).filter((i) => i % 3 !== q % 3);
      const subset = new Float32Array(kept.length * dims);
      kept.forEach((i, r) => subset.set(points.subarray(i * dims, (i + 1) * dims), r * dims));
      const slow = bruteForceKnn(subset, dims, queries.subarray(q * dims, (q + 1) * dims), 3);
      for (let j = 0; j < 3; j++) {
        assert.notEqual(searcher.idOf(j) % 3, q % 3);
        assert.ok(Math.abs(searcher.best[j] - slow.distances[j]) <= 1e-4 * Math.max(1, slow.distances[j]), `query ${q} neighbour ${j}`);
      }
    }
  }
});

/** Like `clustered`, with variance falling off along the coordinates as principal components' does. */
function principalLike(n: number, dims: number, random: Random): Float32Array {
  const out = clustered(n, dims, random);
  for (let i = 0; i < out.length; i++) out[i] *= 0.6 ** (i % dims);
  return out;
}

test('hints never change the answer, and pruning skips most of the points', () => {
  const random = new Random(3);
  const points = principalLike(3000, 10, random);
  const index = buildKnnIndex(points, 10);
  const searcher = new KnnSearcher(index, 1);
  const queries = principalLike(100, 10, random);
  const slow = bruteForceKnn(points, 10, queries, 1);
  let evaluated = 0;
  for (let q = 0; q < 100; q++) {
    // A deliberately bad hint (a random point) must not matter.
    searcher.search(queries, q * 10, [random.int(3000)]);
    assert.ok(Math.abs(searcher.best[0] - slow.distances[q]) <= 1e-4 * Math.max(1, slow.distances[q]));
    evaluated += searcher.evaluated;
  }
  // Subtrees of up to 32 points are scanned whole (cheaper than pruning inside them), so a few more are measured.
  assert.ok(evaluated / 100 < 3000 / 10, `evaluated ${evaluated / 100} of 3000 points per query`);
});

test('fewer points than k leave −1 and infinite distances', () => {
  const points = Float32Array.from([0, 0, 1, 1]);
  const index = buildKnnIndex(points, 2);
  const { indices, distances } = searchKnn(index, Float32Array.from([0.1, 0]), 3);
  assert.deepEqual(Array.from(indices), [0, 1, -1]);
  assert.equal(distances[2], Infinity);
  assert.ok(Math.abs(distances[0] - 0.01) < 1e-6);
});

test('duplicate points and a constant coordinate neither break the tree nor the answers', () => {
  const random = new Random(4);
  const dims = 5;
  const points = new Float32Array(600 * dims);
  for (let i = 0; i < 600; i++) {
    // Many exact copies (coreset banks of flat background have them) and coordinate 2 constant.
    const source = i % 3 === 0 ? 0 : i;
    for (let j = 0; j < dims; j++) points[i * dims + j] = j === 2 ? 1 : source === 0 ? 0.5 : random.normal();
  }
  const queries = clustered(100, dims, random);
  const index = buildKnnIndex(points, dims, { leafSize: 4 });
  assertSameNeighbours(searchKnn(index, queries, 4), bruteForceKnn(points, dims, queries, 4));
});

test('points whose variance is spread over all coordinates are searched on their principal axes, with the same answers', () => {
  const random = new Random(5);
  const dims = 12;
  // Few strong directions mixed into every coordinate, then each coordinate scaled to variance 1 (standardised features).
  const mix = Float32Array.from({ length: dims * dims }, () => random.normal());
  const make = (n: number) => {
    const out = new Float32Array(n * dims);
    for (let i = 0; i < n; i++) {
      const hidden = Array.from({ length: dims }, (_, c) => random.normal() * 0.5 ** c);
      for (let j = 0; j < dims; j++) for (let c = 0; c < dims; c++) out[i * dims + j] += mix[j * dims + c] * hidden[c];
    }
    return out;
  };
  const points = make(1500), queries = make(300);
  const scale = Array.from({ length: dims }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < 1500; i++) sum += points[i * dims + j] ** 2;
    return 1 / Math.sqrt(sum / 1500);
  });
  for (const data of [points, queries]) for (let i = 0; i < data.length; i++) data[i] *= scale[i % dims];
  const index = buildKnnIndex(points, dims);
  assert.ok((new KnnSearcher(index, 1) as unknown as { rotation: unknown }).rotation, 'the search turns these points');
  for (const k of [1, 3]) {
    const fast = searchKnn(index, queries, k), slow = bruteForceKnn(points, dims, queries, k);
    // Measured in the points' own coordinates, as brute force measures them: the very same distances.
    assert.deepEqual(fast.distances, slow.distances);
  }
  assert.deepEqual(searchKnn(index, points, 2, { excludeSelf: true }).distances, bruteForceKnn(points, dims, points, 2, { excludeSelf: true }).distances);
});

test('the WebAssembly leaf scan finds the exact nearest points, at exactly the distances a plain loop measures', () => {
  const random = new Random(13);
  const dims = 9;
  // Principal-like points (searched in their own coordinates, so scanned in WebAssembly), a fifth of them copies of
  // others (ties), and a set scaled so far out that float32 squares overflow (the first check must step aside there).
  for (const scale of [1, 1e20]) {
    const points = principalLike(2000, dims, random);
    for (let i = 0; i < 2000; i += 5) points.copyWithin(i * dims, (i + 1) * dims, (i + 2) * dims);
    for (let i = 0; i < points.length; i++) points[i] *= scale;
    const index = buildKnnIndex(points, dims);
    const queries = principalLike(150, dims, random).map((v) => v * scale);
    queries.set(points.subarray(7 * dims, 8 * dims), 0); // a query on a point: distance 0
    for (const k of [1, 4]) {
      const searcher = new KnnSearcher(index, k);
      assert.ok((searcher as unknown as { scanner: unknown }).scanner, 'scanned in WebAssembly');
      for (let q = 0; q < 150; q++) {
        const exclude = q % 7 === 0 ? 7 : -1;
        searcher.skip = q % 5 === 0 ? (id) => id % 4 === 0 : null;
        searcher.search(queries, q * dims, q % 2 ? [random.int(2000)] : undefined, exclude);
        const exact = (id: number) => squaredDistance(queries, q * dims, points, id * dims, dims);
        const allowed = Array.from({ length: 2000 }, (_, id) => id).filter((id) => id !== exclude && !(searcher.skip?.(id) ?? false));
        const nearest = allowed.map(exact).sort((a, b) => a - b);
        for (let j = 0; j < k; j++) {
          assert.equal(searcher.best[j], nearest[j], `scale ${scale}, k ${k}, query ${q}, neighbour ${j}`);
          assert.equal(exact(searcher.idOf(j)), searcher.best[j]);
        }
      }
    }
  }
});
