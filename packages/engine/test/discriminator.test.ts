import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discriminatorPlane, fitDiscriminator } from '../src/features/discriminator.ts';
import { synthesizeDefects } from '../src/features/synthetic-defects.ts';
import type { FloatMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { decodeBlob, encodeBlob } from '../src/model/blob.ts';

/** Vertical streaks of random phase and contrast with a little noise, optionally crossed by a dark horizontal crack at row 30. */
function streaks(random: Random, crack: boolean): FloatMap {
  const width = 64, height = 56, phase = random.next() * 6, contrast = 0.1 + 0.1 * random.next();
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    data[y * width + x] = crack && y === 30 && x > 12 && x < 52 ? 0.1 : 0.5 + contrast * Math.sin(x * 1.1 + phase) + 0.01 * random.normal();
  }
  return { width, height, data };
}

const OPTIONS = { size: 7, hidden: 16, samples: 6000, epochs: 4, learningRate: 0.003, defectsPerImage: 4 };

test('synthetic defects: each kind changes the copy only where its mask says (up to the faint rim of a line), and leaves the original alone', () => {
  const random = new Random(3);
  const plane = streaks(random, false), before = Float32Array.from(plane.data);
  const defect = synthesizeDefects(plane, [streaks(random, false)], 0.1, 6, random);
  assert.deepEqual(plane.data, before);
  let marked = 0;
  for (let i = 0; i < before.length; i++) {
    if (defect.mask[i]) marked++;
    else if (Math.abs(defect.plane.data[i] - before[i]) > 0.75 * 0.1 + 1e-6) assert.fail(`pixel ${i} changed outside the mask`);
  }
  assert.ok(marked > 0);
});

test('discriminator: same seed, same network; it scores a crack across the streaks above the good texture', () => {
  const fit = () => {
    const random = new Random(7);
    return fitDiscriminator(Array.from({ length: 10 }, () => streaks(random, false)), 0, OPTIONS, random);
  };
  const network = fit();
  assert.deepEqual(fit().weights1, network.weights1);
  assert.ok(network.weights1.every(Number.isFinite));
  assert.ok(network.heldOutAccuracy > 0.6, `held-out accuracy ${network.heldOutAccuracy}`);
  const random = new Random(11);
  const good = discriminatorPlane(streaks(random, false), network);
  const cracked = discriminatorPlane(streaks(random, true), network);
  assert.equal(good.width, 32);
  let goodMax = -Infinity;
  for (let y = 4; y < good.height - 4; y++) for (let x = 4; x < good.width - 4; x++) goodMax = Math.max(goodMax, good.planes[0][y * good.width + x]);
  const onCrack = cracked.planes[0][15 * cracked.width + 16];
  assert.ok(onCrack > goodMax, `on the crack ${onCrack.toFixed(3)}, good texture at most ${goodMax.toFixed(3)}`);
  // Stored in a model as it is: the stored network gives the same plane.
  const stored = decodeBlob(encodeBlob({ discriminators: [network] })).discriminators as (typeof network)[];
  assert.deepEqual(discriminatorPlane(streaks(new Random(2), true), stored[0]).planes, discriminatorPlane(streaks(new Random(2), true), network).planes);
});
