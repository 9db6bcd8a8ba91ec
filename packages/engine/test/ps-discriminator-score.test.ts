// PS's discriminator as an anomaly score of its own, combined with the nearest-neighbour score (`PsConfig.discriminator.score`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPatchSample, DEFAULT_PS_CONFIG, type PsConfig } from '../src/algorithms/ps/index.ts';
import { sampleOf } from '../src/algorithms/types.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';

/** Vertical streaks of random phase and contrast, 96×96; optionally crossed by a faint dark line at row 48. */
function streaks(random: Random, line = 0): Raster {
  const width = 96, height = 96, data = new Float32Array(width * height * 3);
  const phase = random.next() * 6, contrast = 0.1 + 0.1 * random.next();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let v = 0.5 + contrast * Math.sin(x * 1.1 + phase) + 0.02 * random.normal();
    if (line && y === 48 && x > 24 && x < 72) v -= line;
    data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { width, height, channels: 3, data };
}

const NETWORK = { levels: [0], size: 7, hidden: 12, samples: 6000, epochs: 3, learningRate: 0.003, defectsPerImage: 4 };
const base: PsConfig = { ...DEFAULT_PS_CONFIG, sampleRange: [4000, 4000], learnedFilters: 'off', structureImages: 16, normalise: 'none', context: 'off' };

async function trained(config: PsConfig) {
  const ps = createPatchSample(config);
  const params = resolveParams(ps.parameters, { train_size: 500, resolution: 'full', placement: 'free' }).values;
  const random = new Random(5);
  const samples = Array.from({ length: 16 }, () => sampleOf(streaks(random), true));
  const state = await ps.train(samples, params, { onProgress: () => {} });
  const map = (raster: Raster) => ps.anomalyMap(state, raster, params).data;
  return { state, map, peak: (raster: Raster) => map(raster).reduce((m, v) => Math.max(m, v), 0) };
}

test('PS discriminator score: a faint line across streaks that the nearest-neighbour score ranks below good images, the combined score ranks above', async () => {
  // The same network as a plane in both models (the same descriptors and bank): only the combination differs.
  const knn = await trained({ ...base, discriminator: NETWORK });
  const combined = await trained({ ...base, discriminator: { ...NETWORK, score: 'max' } });
  assert.equal(knn.state.scoreScales, undefined);
  const [sum, unit, median, logitUnit] = combined.state.scoreScales;
  assert.equal(sum, 0);
  assert.ok(unit > 0 && logitUnit > 0 && Number.isFinite(median));
  const random = new Random(17);
  const goods = Array.from({ length: 6 }, () => streaks(random));
  const line = streaks(random, 0.12);
  // The line's peak over the good images' highest peak: below 1 is a miss at any threshold that passes them.
  const ratio = (model: typeof knn) => model.peak(line) / Math.max(...goods.map(model.peak));
  assert.ok(ratio(knn) < 1, `nearest neighbours alone: ${ratio(knn)}`);
  assert.ok(ratio(combined) > 1, `combined: ${ratio(combined)}`);
  // The maximum: the combined map never falls below the nearest-neighbour map in its unit.
  const good = goods[0];
  const a = knn.map(good), b = combined.map(good);
  for (let i = 0; i < a.length; i++) assert.ok(b[i] >= a[i] / unit - 1e-5);
});
