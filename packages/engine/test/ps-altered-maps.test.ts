// A synthetic defect drawn into a held-out image is mapped from that image's map outside the defect's reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPatchSample, DEFAULT_PS_CONFIG } from '../src/algorithms/ps/index.ts';
import { sampleOf, type TrainingSample } from '../src/algorithms/types.ts';
import { synthesizeDefect, synthesizeDefectWithin } from '../src/calibration/synthetic.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';

/** Streaked, noisy textures of 256×256 whose exposure varies (so that 'robust' normalisation has work to do). */
function textures(count: number, seed: number): TrainingSample[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => {
    const width = 256, height = 256, data = new Float32Array(width * height * 3);
    const phase = random.next() * 6, exposure = 0.3 + 0.3 * random.next();
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const v = exposure + 0.2 * Math.sin(x * 0.5 + phase + y * 0.13) + 0.08 * random.next();
      data.set([v, v * 0.9, v * 0.8], (y * width + x) * 3);
    }
    return sampleOf({ width, height, channels: 3, data } satisfies Raster, true);
  });
}

for (const [normalise, contextWindows] of [['none', 'off'], ['robust', 'off'], ['none', 'on']] as const) {
  test(`PS altered maps (${normalise}, context windows ${contextWindows}): a synthetic defect's map from its image's map equals the whole map, and reuses it`, async () => {
    const ps = createPatchSample({ ...DEFAULT_PS_CONFIG, normalise, context: contextWindows, sampleRange: [4000, 4000], structureImages: 4, learnedFilters: { levels: [0, 1, 2], planes: 'residual', samples: 2000 } });
    const params = resolveParams(ps.parameters, { train_size: 500, resolution: 'full', placement: 'free' }).values;
    const samples = textures(7, 5);
    const context = { onProgress: () => {} };
    const state = await ps.train(samples.slice(0, 6), params, context);
    const heldOut = samples[6];
    const raster = await heldOut.load();
    const own = ps.compactAnomalyMap!(state, raster, params, heldOut).expand();
    for (let seed = 0; seed < 6; seed++) {
      const defect = synthesizeDefectWithin(raster, new Random(seed));
      assert.deepEqual(defect.raster, synthesizeDefect(raster, new Random(seed)), 'the same defect as synthesizeDefect draws');
      const whole = ps.compactAnomalyMap!(state, defect.raster, params).expand();
      const reused = ps.compactAnomalyMap!(state, defect.raster, params, undefined, { of: heldOut, ...defect.changed }).expand();
      let largest = 0;
      for (let i = 0; i < whole.data.length; i++) largest = Math.max(largest, Math.abs(whole.data[i] - reused.data[i]) / Math.max(1e-3, whole.data[i]));
      // Robust: normalised by the original's median and spread, which the defect moved a little.
      if (normalise === 'none') assert.ok(largest < 1e-4, `seed ${seed}: largest relative difference ${largest}`);
      const peak = (map: typeof own) => map.data.reduce((m, v) => Math.max(m, v), 0);
      assert.ok(Math.abs(peak(reused) - peak(whole)) <= 0.1 * peak(whole), `seed ${seed}: peaks ${peak(reused)}, ${peak(whole)}`);
      // The defect moved the map (so the comparison above is not of two copies of the original's).
      assert.ok(whole.data.some((v, i) => Math.abs(v - own.data[i]) > 1e-3));
      // A box in a corner, away from the defect: far from it the map is the original's, so its scores were reused.
      const missed = ps.compactAnomalyMap!(state, defect.raster, params, undefined, { of: heldOut, x0: 0, y0: 0, x1: 1, y1: 1 }).expand();
      const far = (map: typeof own) => map.data.subarray(192 * 256);
      assert.deepEqual(far(missed), far(own));
    }
  });
}
