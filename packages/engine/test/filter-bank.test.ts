import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialBlur, filterBank, halve, opponentColour, poolOnGrid, robustCentre, type PyramidLevel } from '../src/features/filter-bank.ts';
import { patchGrid, patchScoresToMap } from '../src/features/patches.ts';
import { finishDescriptors, type Projection } from '../src/algorithms/ps/descriptors.ts';
import { Random } from '../src/kernels/random.ts';

const close = (a: number, b: number, tolerance = 1e-5) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

test('binomial blur equals a direct 5×5 convolution with [1 4 6 4 1]/16 and clamped borders', () => {
  const random = new Random(7);
  const weights = [1, 4, 6, 4, 1].map((w) => w / 16);
  for (let trial = 0; trial < 30; trial++) {
    const width = 1 + random.int(12), height = 1 + random.int(12);
    const data = Float32Array.from({ length: width * height }, () => random.normal());
    const blurred = binomialBlur({ width, height, data }).data;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let expected = 0;
      for (let v = -2; v <= 2; v++) for (let u = -2; u <= 2; u++) {
        const yy = Math.min(height - 1, Math.max(0, y + v)), xx = Math.min(width - 1, Math.max(0, x + u));
        expected += weights[v + 2] * weights[u + 2] * data[yy * width + xx];
      }
      assert.ok(close(blurred[y * width + x], expected), `${width}×${height} at ${x},${y}: ${blurred[y * width + x]} vs ${expected}`);
    }
  }
});

test('pooling on the grid equals the mean of each patch window at every pyramid level, and of its wider context window', () => {
  const random = new Random(8);
  for (let trial = 0; trial < 40; trial++) {
    const width = 9 + random.int(40), height = 9 + random.int(40);
    const patch = 2 + random.int(8), step = 1 + random.int(patch);
    // Every other trial with a context window: each level's planes over the patches, then over the wider windows.
    const margin = trial % 2 === 0 ? 0 : 1 + random.int(6);
    const grid = patchGrid(width, height, patch, patch, step, margin);
    const levels: PyramidLevel[] = [];
    for (let level = 0, w = width, h = height; level < 3; level++, w = Math.ceil(w / 2), h = Math.ceil(h / 2)) {
      levels.push({ scale: 2 ** level, width: w, height: h, planes: [0, 1].map(() => Float32Array.from({ length: w * h }, () => random.normal())) });
    }
    const { dims, data } = poolOnGrid(levels, grid);
    assert.equal(dims, margin ? 12 : 6);
    let feature = 0;
    for (const { scale, width: w, height: h, planes } of levels) {
      for (const reach of margin ? [0, margin] : [0]) {
        for (const plane of planes) {
          for (let gy = 0; gy < grid.rows; gy++) for (let gx = 0; gx < grid.columns; gx++) {
            const x0 = Math.max(0, Math.min(w - 1, Math.floor((grid.xs[gx] - reach) / scale)));
            const y0 = Math.max(0, Math.min(h - 1, Math.floor((grid.ys[gy] - reach) / scale)));
            const x1 = Math.max(x0 + 1, Math.min(w, Math.ceil((grid.xs[gx] + grid.patchWidth + reach) / scale)));
            const y1 = Math.max(y0 + 1, Math.min(h, Math.ceil((grid.ys[gy] + grid.patchHeight + reach) / scale)));
            let sum = 0;
            for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += plane[y * w + x];
            const got = data[(gy * grid.columns + gx) * dims + feature];
            assert.ok(close(got, sum / ((x1 - x0) * (y1 - y0))), `feature ${feature} patch ${gx},${gy}, margin ${reach}`);
          }
          feature++;
        }
      }
    }
  }
});

test('descriptors are the affine projection of the raw features, position first when it counts', () => {
  const random = new Random(9);
  const grid = patchGrid(23, 17, 6, 6, 3);
  const n = grid.columns * grid.rows;
  for (const [rawDims, keep, positionWeight] of [[7, 7, 0], [9, 4, 2.5], [5, 1, 0]] as const) {
    const raw = { grid, dims: rawDims, data: Float32Array.from({ length: n * rawDims }, () => random.normal()) };
    const projection: Projection = {
      rawDims, keep,
      offset: Float32Array.from({ length: rawDims }, () => random.normal()),
      matrix: Float32Array.from({ length: keep * rawDims }, () => random.normal()),
    };
    const { dims, data } = finishDescriptors(raw, projection, positionWeight);
    const lead = positionWeight > 0 ? 2 : 0;
    assert.equal(dims, lead + keep);
    for (let i = 0; i < n; i++) {
      if (lead) {
        const gx = i % grid.columns, gy = Math.floor(i / grid.columns);
        assert.ok(close(data[i * dims], ((grid.xs[gx] + 3) / 23) * positionWeight));
        assert.ok(close(data[i * dims + 1], ((grid.ys[gy] + 3) / 17) * positionWeight));
      }
      for (let c = 0; c < keep; c++) {
        let expected = 0;
        for (let j = 0; j < rawDims; j++) expected += (raw.data[i * rawDims + j] - projection.offset[j]) * projection.matrix[c * rawDims + j];
        assert.ok(close(data[i * dims + lead + c], expected), `patch ${i} coordinate ${c}`);
      }
    }
  }
});

test('patch scores spread to pixels as the mean of the patches covering each pixel (gaps stay 0)', () => {
  const random = new Random(10);
  for (let trial = 0; trial < 30; trial++) {
    const width = 5 + random.int(30), height = 5 + random.int(30);
    const patch = 1 + random.int(8), step = 1 + random.int(patch + 3);
    const grid = patchGrid(width, height, patch, patch, step);
    const scores = Float32Array.from({ length: grid.columns * grid.rows }, () => random.next());
    const map = patchScoresToMap(scores, grid);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let sum = 0, count = 0;
      for (let gy = 0; gy < grid.rows; gy++) for (let gx = 0; gx < grid.columns; gx++) {
        if (x >= grid.xs[gx] && x < grid.xs[gx] + grid.patchWidth && y >= grid.ys[gy] && y < grid.ys[gy] + grid.patchHeight) {
          sum += scores[gy * grid.columns + gx];
          count++;
        }
      }
      assert.ok(close(map.data[y * width + x], count ? sum / count : 0), `${width}×${height} patch ${patch} step ${step} at ${x},${y}`);
    }
  }
});

test('colour planes follow the pyramid (blurred above level 0, halved between levels), and a grey image\'s are zero and pool to zero', () => {
  const random = new Random(11);
  for (const grey of [false, true]) {
    const width = 37, height = 29;
    const data = new Float32Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const v = random.next();
      for (let c = 0; c < 3; c++) data[i * 3 + c] = grey ? v : random.next();
    }
    const raster = { width, height, channels: 3, data };
    const levels = filterBank(raster, { levels: 4, colour: true, normalise: 'none' });
    let { a, b } = opponentColour(raster);
    for (let level = 0; level < 4; level++) {
      if (level > 0) {
        a = binomialBlur(a);
        b = binomialBlur(b);
      }
      assert.deepEqual(levels[level].planes[1], a.data, `a at level ${level}`);
      assert.deepEqual(levels[level].planes[2], b.data, `b at level ${level}`);
      if (grey) assert.ok(a.data.every((v) => Object.is(v, 0)) && b.data.every((v) => Object.is(v, 0)));
      a = halve(a);
      b = halve(b);
    }
    const grid = patchGrid(width, height, 6, 6, 3);
    const pooled = poolOnGrid(levels, grid);
    const alone = poolOnGrid(levels.map((l) => ({ ...l, planes: l.planes.map((p) => Float32Array.from(p)) })), grid);
    assert.deepEqual(pooled, alone, 'pooling skips nothing it should not');
  }
});

test('the robust centre is the median and scaled MAD of every step-th value (the sample a plane of 491×376 draws)', () => {
  const random = new Random(21);
  const plane = Float32Array.from({ length: 491 * 376 }, () => Math.round(random.next() * 255) / 255);
  const step = Math.floor(plane.length / 20000);
  const sample = Array.from({ length: Math.ceil(plane.length / step) }, (_, j) => plane[j * step]).sort((a, b) => a - b);
  const centre = sample[sample.length >> 1];
  const deviations = sample.map((v) => Math.abs(v - centre)).sort((a, b) => a - b);
  assert.deepEqual(robustCentre(plane), { centre, spread: deviations[deviations.length >> 1] * 1.4826 });
  // A flat plane keeps a floor of spread, so that normalising it does not divide by zero.
  assert.deepEqual(robustCentre(new Float32Array(100).fill(0.5)), { centre: 0.5, spread: 0.02 });
});
