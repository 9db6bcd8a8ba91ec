import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitDiscriminator } from '../src/features/discriminator.ts';
import { fitLearnedFilters } from '../src/features/learned-filters.ts';
import { lightnessPyramid } from '../src/features/filter-bank.ts';
import { rawDescriptors, rawDescriptorsReusing, type DescriptorSettings } from '../src/algorithms/ps/descriptors.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';

function noisyRaster(random: Random, width: number, height: number): Raster {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = 0.5 + 0.2 * Math.sin(x * 0.7) + 0.05 * random.normal();
    for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = v + 0.03 * c;
  }
  return { width, height, channels: 3, data };
}

test('PS descriptors with the learned filters\' pooled planes kept from before are the descriptors computed whole', () => {
  const random = new Random(3);
  const rasters = [noisyRaster(random, 61, 47), noisyRaster(random, 61, 47), noisyRaster(random, 40, 64)];
  const options = { count: 8, size: 7, planes: 'residual', samples: 2000, iterations: 5, threshold: 0.25 } as const;
  const pyramids = rasters.map((r) => lightnessPyramid(r, { normalise: 'none' }, 2));
  const learned = [0, 1].map((level) => fitLearnedFilters(pyramids.map((p) => p[level]), level, options, random));
  const settings: DescriptorSettings = { levels: 3, firstLevel: 0, colour: true, normalise: 'none', learned, patchWidth: 8, patchHeight: 8, step: 4 };
  for (const raster of rasters) {
    const whole = rawDescriptors(raster, settings);
    const first = rawDescriptorsReusing(raster, settings, null);
    assert.deepEqual(first.data, whole.data);
    assert.equal(first.learnedColumns.length, 2 * whole.grid.columns * whole.grid.rows);
    const reused = rawDescriptorsReusing(raster, settings, first.learnedColumns);
    assert.equal(reused.dims, whole.dims);
    assert.deepEqual(reused.data, whole.data);
  }
  // The discriminators' planes follow the learned filters' and are kept with them.
  const discriminators = [fitDiscriminator(pyramids.map((p) => p[1]), 1, { size: 7, hidden: 8, samples: 2000, epochs: 1, learningRate: 0.003, defectsPerImage: 2 }, random)];
  const withNetwork: DescriptorSettings = { ...settings, discriminators };
  const whole = rawDescriptors(rasters[0], withNetwork);
  const first = rawDescriptorsReusing(rasters[0], withNetwork, null);
  assert.equal(first.learnedColumns.length, 3 * whole.grid.columns * whole.grid.rows);
  assert.deepEqual(rawDescriptorsReusing(rasters[0], withNetwork, first.learnedColumns).data, whole.data);
  // Without learned filters nothing is kept, and nothing changes.
  const plain = { ...settings, learned: [] };
  const none = rawDescriptorsReusing(rasters[0], plain, null);
  assert.equal(none.learnedColumns.length, 0);
  assert.deepEqual(none.data, rawDescriptors(rasters[0], plain).data);
});
