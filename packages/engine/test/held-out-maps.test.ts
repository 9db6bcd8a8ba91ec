// Cross-fitting holds a map per held-out image until calibration reads them: held compact, they do not grow with the
// image size (issue 12, part 3), and calibration gives what it gives on the full maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { patchSample } from '../src/algorithms/ps/index.ts';
import { fitCalibration } from '../src/calibration/calibrate.ts';
import { chooseCalibration } from '../src/calibration/choose.ts';
import { trainModel, type TrainingImage } from '../src/engine.ts';
import type { CompactMap, FloatMap, Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';
import { retainedMb } from './retained-memory.ts';

/** A 640 × 640 grey board: a grid of pads and traces, shifted and re-exposed by k's seed. Encoded when it is read. */
async function board(k: number): Promise<Uint8Array> {
  const random = new Random(k);
  const size = 640, dx = random.int(40), dy = random.int(40), gain = 0.8 + 0.2 * random.next();
  const pixels = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const u = (x + dx) % 80, v = (y + dy) % 80;
    const copper = (u > 20 && u < 44 && v > 20 && v < 44) || (v > 30 && v < 34) || (u > 60 && u < 63);
    pixels[y * size + x] = Math.round(gain * ((copper ? 200 : 60) + 30 * random.next()));
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** Stops training where cross-fitting has mapped every held-out image, before calibration reads the maps. */
class CrossFitted extends Error {}

/** What training holds when cross-fitting has mapped every held-out image, beyond what it held before it started. */
async function heldAfterCrossFitting(images: TrainingImage[], workingSize: number): Promise<number> {
  const before = retainedMb();
  let held = 0;
  const params = { working_size: workingSize, resolution: 'full', placement: 'free', train_size: 1000 };
  await assert.rejects(trainModel('PS', images, params, {
    onProgress: (fraction, step) => {
      if (step !== 'calibrating' || fraction < 0.6) return;
      held = retainedMb() - before;
      throw new CrossFitted();
    },
  }), CrossFitted);
  return held;
}

test('PS cross-fitting holds its held-out maps compact: 16 times the pixels hold little more', async (t) => {
  // 32 OK images give 32 held-out maps and 32 synthetic defects. At 512 × 512 in full: 64 MB more than at 128 × 128.
  const images: TrainingImage[] = Array.from({ length: 32 }, (_, k) => ({ bytes: () => board(k), good: true }));
  const small = await heldAfterCrossFitting(images, 128);
  const large = await heldAfterCrossFitting(images, 512);
  t.diagnostic(`held after cross-fitting: ${small.toFixed(1)} MB at 128 px, ${large.toFixed(1)} MB at 512 px`);
  // What does grow: the cache of decoded pixels (32 × 0.25 MB), the patch scores (64 × 64 KB) and the two folds' patch
  // reservoirs PS keeps for its final model (`shareFoldPatches`: at 128 px half full, at 512 px 2 × 30,000 patches, 8 MB).
  // Measured: 2.1 and 11.9 MB without the reservoirs, 6.7 and 27.4 MB with them; with the maps held in full, 5.6 and 72.2 MB.
  assert.ok(large < small + 30, `held ${large.toFixed(1)} MB at 512 px, ${small.toFixed(1)} MB at 128 px`);
});

/** PS's held-out maps of a few boards, full and compact. */
async function psMaps(count: number): Promise<{ full: FloatMap[]; compact: CompactMap[] }> {
  const params = resolveParams(patchSample.parameters, { working_size: 96, resolution: 'full', placement: 'free', train_size: 500 }).values;
  const rasters: Raster[] = [];
  for (let k = 0; k < count; k++) {
    const { data, info } = await sharp(await board(k)).resize(96 + 8 * (k % 3), 96).raw().toBuffer({ resolveWithObject: true });
    rasters.push({ width: info.width, height: info.height, channels: 1, data: Float32Array.from(data, (v) => v / 255) });
  }
  const samples = rasters.map((raster) => ({ load: async () => raster, good: true, boxes: [] }));
  const state = await patchSample.train(samples.slice(0, 4), params, { onProgress: () => {} });
  return {
    full: rasters.map((raster) => patchSample.anomalyMap(state, raster, params)),
    compact: rasters.map((raster) => patchSample.compactAnomalyMap!(state, raster, params)),
  };
}

test('PS: a compact map expands to its anomaly map, bit for bit, and calibration fits the same from either', async () => {
  const { full, compact } = await psMaps(12);
  compact.forEach((map, i) => {
    assert.deepEqual([map.width, map.height], [full[i].width, full[i].height]);
    assert.deepEqual(map.expand(), full[i]);
  });
  for (const mode of ['global', 'border', 'location'] as const) assert.deepEqual(fitCalibration(compact, mode), fitCalibration(full, mode), mode);
  assert.deepEqual(chooseCalibration(compact), chooseCalibration(full));
});
