// PS training streams its images: memory grows with its patch reservoir, not with the number of images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patchSample } from '../src/algorithms/ps/index.ts';
import type { TrainingSample } from '../src/algorithms/types.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';
import { retainedMb } from './retained-memory.ts';

/**
 * Image `k` of a product photographed many times: a 128×128 brushed texture with a dark hole, shifted, turned by a
 * quarter turn every other image and re-exposed — made again on every access, so that the test holds no image itself.
 */
function photo(k: number): Raster {
  const random = new Random(k);
  const size = 128, dx = random.int(32), dy = random.int(32), gain = 0.6 + 0.4 * random.next(), turned = k % 2 === 1;
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const [u, v] = turned ? [y + dx, x + dy] : [x + dx, y + dy];
    let value = 0.5 + 0.15 * Math.sin(u * 0.7) + 0.05 * random.next();
    if (Math.hypot(u - 70, v - 60) < 5) value = 0.15;
    data.fill(Math.min(1, value * gain), (y * size + x) * 3, (y * size + x) * 3 + 3);
  }
  return { width: size, height: size, channels: 3, data };
}

function lazySamples(count: number): TrainingSample[] {
  return Array.from({ length: count }, (_, k) => ({ load: async () => photo(k), good: true, boxes: [] }));
}

test('PS training on 1,200 images: what it keeps is bounded by its patch reservoir, not by the images', async () => {
  const params = resolveParams(patchSample.parameters, {}).values;
  const measure = async (count: number) => {
    const before = retainedMb();
    let peak = 0, calls = 0;
    const state = await patchSample.train(lazySamples(count), params, {
      // Sampled every 50th report: a collection per image would dominate the test's time.
      onProgress: () => { if (calls++ % 50 === 0) peak = Math.max(peak, retainedMb() - before); },
    });
    return { state, peak };
  };
  const small = await measure(120);
  const large = await measure(1200);
  // 1,200 images of 961 patches × 37 features keep 170 MB of descriptors if they are all kept (as before: three copies).
  assert.ok(large.peak < small.peak + 30, `kept at most ${large.peak.toFixed(0)} MB for 1,200 images, ${small.peak.toFixed(0)} MB for 120`);
  assert.ok(large.state.index.dims > 0);
});
