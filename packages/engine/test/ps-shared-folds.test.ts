// PS's trains of one training share their learned filters, and the final model draws its patches from the folds'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPatchSample, DEFAULT_PS_CONFIG, type PsConfig } from '../src/algorithms/ps/index.ts';
import { sampleOf, type TrainingSample } from '../src/algorithms/types.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';

/** Streaked textures of 64×64 whose samples count the times they are read. */
function countedTextures(count: number, seed: number, reads: { count: number }): TrainingSample[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => {
    const width = 64, height = 64, data = new Float32Array(width * height * 3);
    const phase = random.next() * 6;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      data.fill(0.5 + 0.2 * Math.sin(x * 0.7 + phase + y * 0.1) + 0.05 * random.next(), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
    const raster: Raster = { width, height, channels: 3, data };
    const sample = sampleOf(raster, true);
    return { ...sample, load: () => { reads.count++; return sample.load(); } };
  });
}

const config: PsConfig = { ...DEFAULT_PS_CONFIG, sampleRange: [3000, 3000] };
const params = (ps: ReturnType<typeof createPatchSample>) => resolveParams(ps.parameters, { train_size: 400, resolution: 'full', placement: 'free' }).values;

/** Decides, trains two folds and the final model as the engine's cross-fitting does; the images the final train read. */
async function trainAsTheEngineDoes(share: boolean) {
  const ps = createPatchSample({ ...config, shareFoldPatches: share });
  const reads = { count: 0 };
  const samples = countedTextures(16, 3, reads);
  const context = { onProgress: () => {} };
  const decided = await ps.decide!(samples, params(ps), context);
  for (let fold = 0; fold < 2; fold++) await ps.train(samples.filter((_, i) => i % 2 !== fold), params(ps), { ...context, decided });
  reads.count = 0;
  const banks: unknown[] = [];
  const state = await ps.train(samples, params(ps), {
    ...context, decided, onProgress: (_f, step, values) => { if (step === 'memory-bank') banks.push(values); },
  });
  return { ps, state, finalReads: reads.count, banks };
}

test('PS shared fold patches: the final model reads no image again, and scores as the one that does', async () => {
  const shared = await trainAsTheEngineDoes(true);
  const own = await trainAsTheEngineDoes(false);
  assert.equal(shared.finalReads, 0, 'the final model drew its patches from the folds');
  // Its progress names the bank it keeps and the sampled patches it chooses them among (the server words both).
  assert.deepEqual(shared.banks, [{ bank: 400, candidates: 3000 }]);
  assert.ok(own.finalReads >= 16, `without sharing, every image is read again (${own.finalReads})`);
  // Same learned filters (fitted once, on all the images, as the final model fitted them before).
  assert.deepEqual(shared.state.structure, own.state.structure);
  // A new good image and a scratched one: the two models agree on both, and both see the scratch.
  const reads = { count: 0 };
  const good = await countedTextures(1, 11, reads)[0].load();
  const scratched = { ...good, data: Float32Array.from(good.data) };
  for (let y = 31; y < 33; y++) for (let x = 20; x < 44; x++) scratched.data.fill(0, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  const peak = (ps: typeof shared.ps, state: typeof shared.state, raster: Raster) =>
    ps.anomalyMap(state, raster, params(ps)).data.reduce((m, v) => Math.max(m, v), 0);
  for (const raster of [good, scratched]) {
    const a = peak(shared.ps, shared.state, raster), b = peak(own.ps, own.state, raster);
    assert.ok(Math.abs(a - b) <= 0.15 * Math.max(a, b), `peaks ${a} and ${b}`);
  }
  assert.ok(peak(shared.ps, shared.state, scratched) > 1.5 * peak(shared.ps, shared.state, good));
});

test('PS maps of training images the engine named (`mappedLater`, `from`) reuse their learned planes and are the same maps', async () => {
  const ps = createPatchSample(config);
  const reads = { count: 0 };
  const samples = countedTextures(12, 5, reads);
  const context = { onProgress: () => {} };
  const decided = await ps.decide!(samples, params(ps), context);
  const mappedLater = new Set(samples.slice(0, 6));
  const trainPart = samples.filter((_, i) => i % 2 === 1);
  const state = await ps.train(trainPart, params(ps), { ...context, decided, mappedLater });
  for (const sample of samples.slice(0, 6)) {
    const raster = await sample.load();
    const named = ps.compactAnomalyMap!(state, raster, params(ps), sample).expand();
    const plain = ps.anomalyMap(state, raster, params(ps));
    assert.deepEqual(named.data, plain.data);
  }
});
