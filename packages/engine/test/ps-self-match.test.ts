// PS's option `selfMatch`: a structure the bank has never seen but that repeats within its image is lowered; a lone one is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPatchSample, DEFAULT_PS_CONFIG } from '../src/algorithms/ps/index.ts';
import { sampleOf } from '../src/algorithms/types.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';

const size = 160;

/** A noisy board, dark with bright horizontal traces; `pads` are the centres of mid-grey 7×7 pads (none in training). */
function board(random: Random, pads: [number, number][] = []): Raster {
  const data = new Float32Array(size * size * 3);
  const offset = random.int(10);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let v = (y + offset) % 10 < 3 ? 0.8 : 0.2;
    for (const [mx, my] of pads) {
      const dx = Math.abs(x - mx), dy = Math.abs(y - my);
      if (dx <= 3 && dy <= 3) v = 0.5;
    }
    data.fill(v + 0.04 * random.next(), (y * size + x) * 3, (y * size + x) * 3 + 3);
  }
  return { width: size, height: size, channels: 3, data };
}

const options = { ...DEFAULT_PS_CONFIG, selfMatch: 'off' as const, normalise: 'none' as const, sampleRange: [4000, 4000] as [number, number], structureImages: 6, learnedFilters: { levels: [0, 1], planes: 'residual' as const, samples: 3000 } };
const plain = createPatchSample(options);
const selfMatched = createPatchSample({ ...options, selfMatch: 'on' as const });
const params = resolveParams(plain.parameters, { train_size: 800, resolution: 'full', placement: 'free' }).values;

/** The largest map value within `r` pixels of (x, y). */
function peak(map: { width: number; height: number; data: Float32Array }, x: number, y: number, r = 6): number {
  let best = 0;
  for (let yy = Math.max(0, y - r); yy <= Math.min(map.height - 1, y + r); yy++) {
    for (let xx = Math.max(0, x - r); xx <= Math.min(map.width - 1, x + r); xx++) best = Math.max(best, map.data[yy * map.width + xx]);
  }
  return best;
}

test('PS self-matching lowers a pad that repeats across its image, and keeps a lone one', async () => {
  const random = new Random(11);
  const samples = Array.from({ length: 12 }, () => sampleOf(board(random), true));
  const state = await plain.train(samples, params, { onProgress: () => {} });
  const matchedState = await selfMatched.train(samples, params, { onProgress: () => {} });
  assert.equal(plain.choices!(state).self_match, undefined, 'self-matching off: no check recorded');
  assert.deepEqual([state.selfMatchRank, matchedState.selfMatchRank, matchedState.selfMatchWindow], [undefined, 4, 6]);
  const ratio = (image: Raster, [x, y]: [number, number]) => {
    const before = plain.anomalyMap(state, image, params), after = selfMatched.anomalyMap(matchedState, image, params);
    assert.ok(peak(before, x, y) > 2 * peak(before, x, 140), 'the bank has never seen the pad');
    // Self-matching only ever lowers a score.
    for (let i = 0; i < after.data.length; i++) assert.ok(after.data[i] <= before.data[i] + 1e-6);
    return peak(after, x, y) / peak(before, x, y);
  };
  // Eight pads in a row: each has seven repeats beyond the window (six grid steps, 24 pixels) of any other.
  const repeated: [number, number][] = Array.from({ length: 8 }, (_, i) => [16 + 18 * i, 40]);
  const repeatedRatios = repeated.slice(2, 6).map((at) => ratio(board(new Random(5), repeated), at));
  for (const r of repeatedRatios) assert.ok(r < 0.6, `repeated pads lowered: ${repeatedRatios.map((v) => v.toFixed(3)).join(', ')}`);
  const loneRatio = ratio(board(new Random(5), [[80, 60]]), [80, 60]);
  assert.ok(loneRatio > 0.95, `a lone pad kept: ${loneRatio.toFixed(3)}`);
});
