import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findRegions, type Region } from '../src/postprocess/regions.ts';
import { labelComponents } from '../src/metrics/index.ts';
import { Random } from '../src/kernels/random.ts';
import type { FloatMap } from '../src/image/raster.ts';

/**
 * Obvious version: every pixel above `low` starts with its own label; labels flow to the smallest among
 * 8-neighbours until nothing changes; regions whose peak passes `high` are kept.
 */
function slowRegions(map: FloatMap, high: number, low: number): Region[] {
  const { width, height, data } = map;
  const label = Array.from(data, (v, i) => (v > low ? i + 1 : 0));
  let changed = true;
  while (changed) {
    changed = false;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!label[i]) continue;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = ny * width + nx;
        if (label[j] && label[j] < label[i]) { label[i] = label[j]; changed = true; }
      }
    }
  }
  const byLabel = new Map<number, Region>();
  label.forEach((l, i) => {
    if (!l) return;
    const x = i % width, y = Math.floor(i / width);
    const r = byLabel.get(l) ?? { x_min: x, y_min: y, x_max: x + 1, y_max: y + 1, area: 0, peak: -Infinity };
    r.x_min = Math.min(r.x_min, x); r.y_min = Math.min(r.y_min, y);
    r.x_max = Math.max(r.x_max, x + 1); r.y_max = Math.max(r.y_max, y + 1);
    r.area++; r.peak = Math.max(r.peak, data[i]);
    byLabel.set(l, r);
  });
  return [...byLabel.values()].filter((r) => r.peak > high);
}

const key = (r: Region) => `${r.x_min},${r.y_min},${r.x_max},${r.y_max},${r.area},${r.peak}`;

test('connected regions with hysteresis match the obvious version on random maps', () => {
  const random = new Random(21);
  for (let trial = 0; trial < 60; trial++) {
    const width = 1 + random.int(30), height = 1 + random.int(20);
    const density = random.next();
    const data = Float32Array.from({ length: width * height }, () => (random.next() < density ? random.next() : 0));
    const map = { width, height, data };
    const low = random.next() * 0.5, high = low + random.next() * 0.5;
    const fast = findRegions(map, high, low);
    const slow = slowRegions(map, high, low);
    assert.deepEqual(fast.map(key).sort(), slow.map(key).sort(), `trial ${trial}`);
    for (let i = 1; i < fast.length; i++) assert.ok(fast[i - 1].peak >= fast[i].peak, 'strongest first');
  }
});

test('regions of equal peak come in the order of their first pixels', () => {
  const random = new Random(23);
  for (let trial = 0; trial < 40; trial++) {
    const width = 2 + random.int(30), height = 2 + random.int(20);
    // Few distinct values: many regions share their peak.
    const data = Float32Array.from({ length: width * height }, () => [0, 0, 0.5, 1][random.int(4)]);
    const map = { width, height, data };
    // The obvious version lists regions by their first pixel; a stable sort by peak keeps that order among equals.
    const expected = slowRegions(map, 0.7, 0.3).sort((a, b) => b.peak - a.peak);
    assert.deepEqual(findRegions(map, 0.7, 0.3), expected, `trial ${trial}`);
  }
});

test('mask components match the obvious version on random masks', () => {
  const random = new Random(22);
  for (let trial = 0; trial < 40; trial++) {
    const width = 1 + random.int(25), height = 1 + random.int(25);
    const data = Float32Array.from({ length: width * height }, () => (random.next() < 0.45 ? 1 : 0));
    const { labels, count } = labelComponents({ width, height, data });
    const slow = slowRegions({ width, height, data }, 0.5, 0.5);
    assert.equal(count, slow.length);
    // same partition: pixels share a label exactly when they share one in the slow version
    const areas = new Map<number, number>();
    labels.forEach((l) => l && areas.set(l, (areas.get(l) ?? 0) + 1));
    assert.deepEqual([...areas.values()].sort((a, b) => a - b), slow.map((r) => r.area).sort((a, b) => a - b));
  }
});

test('a region grown from its peak keeps its full extent above the low level', () => {
  const width = 8, height = 1;
  const map = { width, height, data: Float32Array.from([0, 0.5, 0.6, 1.2, 0.6, 0.2, 0.9, 0]) };
  const regions = findRegions(map, 1, 0.4);
  assert.deepEqual(regions, [{ x_min: 1, y_min: 0, x_max: 5, y_max: 1, area: 4, peak: 1.2000000476837158 }]);
});
