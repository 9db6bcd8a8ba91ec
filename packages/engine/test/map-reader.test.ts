// Calibration reads held-out maps into one reused buffer, and samples their values into arrays of exact length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BORDER_BANDS, fitCalibration, PIXEL_QUANTILE } from '../src/calibration/calibrate.ts';
import { compactPatchScores, patchGrid } from '../src/features/patches.ts';
import { MapReader, type CompactMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';

function compactMaps(count: number, width: number, height: number, seed: number): CompactMap[] {
  const random = new Random(seed);
  const grid = patchGrid(width, height, 8, 8, 4);
  return Array.from({ length: count }, () => compactPatchScores(Float32Array.from({ length: grid.columns * grid.rows }, () => random.next() * 3), grid));
}

test('MapReader: a map read into a used buffer is the map expanded afresh', () => {
  const reader = new MapReader();
  const maps = [...compactMaps(3, 61, 45, 1), ...compactMaps(2, 30, 70, 2)];
  for (const map of maps) {
    const fresh = map.expand();
    // What the buffer held before (another map, or anything) must not show through.
    assert.deepEqual(Array.from(reader.read(map).data), Array.from(fresh.data));
  }
  // Maps of a size read later overwrite a larger buffer from its start.
  assert.deepEqual(Array.from(reader.read(maps[0]).data), Array.from(maps[0].expand().data));
});

/** The quantile of a sorted copy, as calibration's, the slow way. */
function slowQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1), lo = Math.floor(position), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

test('fitCalibration border: levels of every band as the slow, obvious sampling gives them', () => {
  // Two sizes and more than 2 million pixels, so that maps are sampled with a stride.
  const maps = [...compactMaps(32, 400, 300, 3), ...compactMaps(5, 300, 420, 4)];
  const calibration = fitCalibration(maps, 'border');
  const stride = Math.max(1, Math.floor(maps.reduce((s, m) => s + m.width * m.height, 0) / 2_000_000));
  assert.ok(stride > 1);
  const values: number[] = [];
  const bands: number[][] = Array.from({ length: BORDER_BANDS.length + 1 }, () => []);
  for (const map of maps) {
    const { width, height, data } = map.expand();
    for (let i = 0; i < data.length; i += stride) {
      values.push(data[i]);
      const distance = Math.min(i % width, Math.floor(i / width), width - 1 - (i % width), height - 1 - Math.floor(i / width));
      bands[BORDER_BANDS.filter((end) => distance >= end).length].push(data[i]);
    }
  }
  const level = slowQuantile(values, PIXEL_QUANTILE);
  assert.equal(calibration.level, level);
  // A band's level: its median plus the global tail scaled by the band's 99th percentile, within 1.25 of its own 99.9th.
  const median = slowQuantile(values, 0.5), globalTail = slowQuantile(values, 0.99) - median;
  assert.deepEqual(calibration.borderLevels, bands.map((band) => {
    const bandMedian = slowQuantile(band, 0.5), own = slowQuantile(band, PIXEL_QUANTILE);
    const fromTail = bandMedian + ((level - median) * (slowQuantile(band, 0.99) - bandMedian)) / globalTail;
    return Math.max(Math.min(Math.max(fromTail, own / 1.25), own * 1.25), level * 0.5);
  }));
});
