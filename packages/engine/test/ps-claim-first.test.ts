import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLearnedFilters } from '../src/features/learned-filters.ts';
import { lightnessPyramid } from '../src/features/filter-bank.ts';
import { patchGrid } from '../src/features/patches.ts';
import { rawDescriptors, rawDescriptorsOfPatches, type DescriptorSettings } from '../src/algorithms/ps/descriptors.ts';
import { offerImage } from '../src/algorithms/ps/index.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { RowReservoir } from '../src/kernels/reservoir.ts';

/** Streaks and noise, with a flat band (flat neighbourhoods take their own path in the learned filters). */
function texturedRaster(random: Random, width: number, height: number): Raster {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = y < 12 ? 0.4 : 0.5 + 0.2 * Math.sin(x * 0.7 + y * 0.1) + 0.05 * random.normal();
    for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = v + 0.03 * c;
  }
  return { width, height, channels: 3, data };
}

test('PS claim-first sampling keeps the very rows of describing every patch, a slot claimed twice in one image included', () => {
  const random = new Random(5);
  const rasters = [texturedRaster(random, 70, 52), texturedRaster(random, 64, 64), texturedRaster(random, 53, 71), texturedRaster(random, 70, 52)];
  const options = { count: 8, size: 7, planes: 'residual', samples: 2000, iterations: 5, threshold: 0.25 } as const;
  const pyramids = rasters.map((r) => lightnessPyramid(r, { normalise: 'robust' }, 3));
  const learned = [0, 1, 2].map((level) => fitLearnedFilters(pyramids.map((p) => p[level]), level, options, random));
  const settings: DescriptorSettings = { levels: 2, firstLevel: 0, colour: true, normalise: 'robust', learned, patchWidth: 12, patchHeight: 12, step: 4 };
  const rawDims = rawDescriptors(rasters[0], settings).dims;
  const capacity = 9;
  const [whole, claimFirst, claims] = [0, 1, 2].map(() => new RowReservoir(capacity, rawDims + 2, new Random(11)));
  let claimedTwice = false;
  rasters.forEach((raster, image) => {
    offerImage(whole, raster, settings, image, undefined, undefined, true);
    offerImage(claimFirst, raster, settings, image, undefined);
    const grid = patchGrid(raster.width, raster.height, 12, 12, 4);
    const slots = Array.from({ length: grid.columns * grid.rows }, () => claims.claim(image)).filter((slot) => slot >= 0);
    if (new Set(slots).size < slots.length) claimedTwice = true;
    assert.ok(2 * slots.length <= grid.columns * grid.rows, 'every image takes the claim-first path');
  });
  assert.ok(claimedTwice, 'some slot is claimed twice within one image');
  assert.deepEqual(claimFirst.tags, whole.tags);
  assert.deepEqual(claimFirst.rows, whole.rows);
});

test('PS descriptors of chosen patches are those of the whole raster there, and leave the learned planes of the others uncomputed', () => {
  const random = new Random(7);
  const raster = texturedRaster(random, 61, 47);
  const learned = [0, 1].map((level) => fitLearnedFilters([lightnessPyramid(raster, { normalise: 'none' }, 2)[level]], level,
    { count: 8, size: 7, planes: 'both', samples: 1500, iterations: 5, threshold: 0.25 }, random));
  // Without and with context windows (each plane also pooled 4 pixels wider on every side: twice the columns).
  for (const contextMargin of [0, 4]) {
    const settings: DescriptorSettings = { levels: 2, firstLevel: 0, colour: false, normalise: 'none', learned, patchWidth: 8, patchHeight: 8, step: 4, contextMargin };
    const full = rawDescriptors(raster, settings);
    const wanted = Int32Array.of(0, 7, 8, 30, full.grid.columns * full.grid.rows - 1);
    const some = rawDescriptorsOfPatches(raster, settings, wanted)!;
    assert.equal(some.dims, full.dims);
    assert.equal(full.dims, (contextMargin ? 2 : 1) * (2 * 5 + 2 * 9), 'five planes a level from the grey bank, nine learned');
    for (const p of wanted) assert.deepEqual(some.data.subarray(p * some.dims, (p + 1) * some.dims), full.data.subarray(p * full.dims, (p + 1) * full.dims));
    const learnedDims = (contextMargin ? 2 : 1) * 2 * 9;
    const other = 15;
    assert.ok(some.data.subarray(other * some.dims + some.dims - learnedDims, (other + 1) * some.dims).every((v) => v === 0));
  }
  const settings: DescriptorSettings = { levels: 2, firstLevel: 0, colour: false, normalise: 'none', learned, patchWidth: 8, patchHeight: 8, step: 4 };
  const wanted = Int32Array.of(0, 7);
  // Not supported with a second layer: the caller describes the image whole.
  assert.equal(rawDescriptorsOfPatches(raster, { ...settings, learned: [{ ...learned[0], secondCount: 4 }] }, wanted), null);
});
