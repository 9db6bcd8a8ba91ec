import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLearnedFilters, learnedFilterPlanes } from '../src/features/learned-filters.ts';
import type { FloatMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';

/** Vertical streaks of random phase and contrast with a little noise, optionally crossed by a dark horizontal crack at row 20. */
function streaks(random: Random, crack: boolean): FloatMap {
  const width = 48, height = 40, phase = random.next() * 6, contrast = 0.1 + 0.2 * random.next();
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    data[y * width + x] = crack && y === 20 && x > 8 && x < 40 ? 0.05 : 0.5 + contrast * Math.sin(x * 1.1 + phase) + 0.01 * random.normal();
  }
  return { width, height, data };
}

const OPTIONS = { count: 16, size: 7, planes: 'both', samples: 4000, iterations: 10, threshold: 0.25 } as const;

test('learned filters: the codebook residual is low on the good texture and high on a crack across it', () => {
  const random = new Random(1);
  const filters = fitLearnedFilters(Array.from({ length: 8 }, () => streaks(random, false)), 0, OPTIONS, random);
  assert.equal(filters.centroids.length, 16 * filters.whitenedDims);
  assert.ok(filters.centroids.every(Number.isFinite));
  const good = learnedFilterPlanes(streaks(random, false), filters);
  const cracked = learnedFilterPlanes(streaks(random, true), filters);
  // 16 centroid responses and the residual, at every other pixel.
  assert.equal(good.planes.length, 17);
  assert.equal(good.width, 24);
  const residual = (planes: Float32Array[]) => planes[planes.length - 1];
  // Inside the image (the clamped border repeats pixels, which no good neighbourhood shows either).
  let goodMax = 0;
  for (let y = 4; y < good.height - 4; y++) for (let x = 4; x < good.width - 4; x++) goodMax = Math.max(goodMax, residual(good.planes)[y * good.width + x]);
  const onCrack = residual(cracked.planes)[10 * cracked.width + 12];
  assert.ok(onCrack > 2 * goodMax, `on the crack ${onCrack.toFixed(3)}, good texture at most ${goodMax.toFixed(3)}`);
});

test('learned filters: same seed, same filters; tiny images give finite planes', () => {
  const fit = () => {
    const random = new Random(5);
    return fitLearnedFilters(Array.from({ length: 3 }, () => streaks(random, false)), 1, OPTIONS, random);
  };
  assert.deepEqual(Array.from(fit().centroids), Array.from(fit().centroids));
  const tiny = { width: 4, height: 3, data: Float32Array.from({ length: 12 }, (_, i) => i / 12) };
  const filters = fitLearnedFilters([tiny], 0, OPTIONS, new Random(2));
  assert.ok(learnedFilterPlanes(tiny, filters).planes.every((plane) => plane.every(Number.isFinite)));
});

test('learned filters: a second layer adds its codebook residual and leaves the first layer as it was', () => {
  const fit = (second: boolean) => {
    const random = new Random(3);
    const images = Array.from({ length: 8 }, () => streaks(random, false));
    return fitLearnedFilters(images, 0, { ...OPTIONS, planes: 'residual', secondLevels: second ? [0] : [], secondCount: 8, secondPool: 3 }, random);
  };
  const one = fit(false), two = fit(true);
  assert.equal(two.secondCount, 8);
  assert.equal(two.secondCentroids.length, 8 * two.secondWhitenedDims);
  const random = new Random(4);
  const good = streaks(random, false), cracked = streaks(random, true);
  const plain = learnedFilterPlanes(good, one), layered = learnedFilterPlanes(good, two);
  assert.equal(plain.planes.length, 1);
  assert.equal(layered.planes.length, 2);
  assert.deepEqual(Array.from(layered.planes[0]), Array.from(plain.planes[0]));
  const second = (map: { width: number; height: number; planes: Float32Array[] }) => map.planes[1];
  let goodMax = 0;
  for (let y = 4; y < layered.height - 4; y++) for (let x = 4; x < layered.width - 4; x++) goodMax = Math.max(goodMax, second(layered)[y * layered.width + x]);
  const onCrack = learnedFilterPlanes(cracked, two);
  let value = 0;
  for (let y = 9; y <= 11; y++) for (let x = 4; x < onCrack.width - 4; x++) value = Math.max(value, second(onCrack)[y * onCrack.width + x]);
  assert.ok(second(onCrack).every(Number.isFinite));
  assert.ok(value > 1.3 * goodMax, `second layer on the crack ${value.toFixed(3)}, good texture at most ${goodMax.toFixed(3)}`);
});
