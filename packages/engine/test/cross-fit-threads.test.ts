// Cross-fitting on two worker threads gives the models and held-out evaluation that one thread gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { serializeModel, trainModel, type TrainingImage } from '../src/engine.ts';
import { TrainingAbortedError } from '../src/algorithms/types.ts';
import { Random } from '../src/kernels/random.ts';

/** Small product photos, a disc on a noisy background; the defective ones have a dark square, boxed. */
async function photos(count: number, defective: number, seed: number): Promise<TrainingImage[]> {
  const random = new Random(seed);
  const out: TrainingImage[] = [];
  for (let k = 0; k < count + defective; k++) {
    const width = 64, height = 48, good = k < count;
    const data = Buffer.alloc(width * height * 3);
    const tone = random.next() * 10;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const disc = (x - 32) ** 2 + (y - 24) ** 2 < 14 ** 2;
      const flaw = !good && x >= 26 && x < 34 && y >= 20 && y < 28;
      const v = flaw ? 20 : (disc ? 180 : 70) + tone + random.next() * 20;
      data.set([v, v * 0.9, v * 0.7], (y * width + x) * 3);
    }
    const bytes = await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
    out.push({ bytes, good, ...(good ? {} : { boxes: [{ x_min: 26, y_min: 20, x_max: 34, y_max: 28 }] }) });
  }
  return out;
}

async function bothWays(algorithm: string, images: TrainingImage[], params: Record<string, unknown>) {
  const one = await trainModel(algorithm, images, params, { threads: 1 });
  const two = await trainModel(algorithm, images, params, { threads: 2 });
  return { one, two };
}

test('cross-fitting on two threads: PS on OK images (synthetic defects, kept planes and patch reservoirs) gives the same bytes', async () => {
  const { one, two } = await bothWays('PS', await photos(44, 0, 1), { working_size: 64, seed: 5 });
  assert.equal(one.evaluation.aurocSource, 'synthetic_defects');
  assert.deepEqual(two.evaluation, one.evaluation);
  assert.ok(Buffer.from(serializeModel(two)).equals(Buffer.from(serializeModel(one))), 'the same model');
});

test('cross-fitting on two threads: RF on boxed NG images (compact smoothed maps) and PM (full maps) give the same bytes', async () => {
  const images = await photos(40, 12, 2);
  for (const algorithm of ['RF', 'PM']) {
    const { one, two } = await bothWays(algorithm, images, { working_size: 64, seed: 3 });
    assert.equal(one.evaluation.aurocSource, 'ng_images');
    assert.equal(one.evaluation.heldOut.length, 52, `${algorithm}: every image was held out once`);
    assert.deepEqual(two.evaluation, one.evaluation, algorithm);
    assert.ok(Buffer.from(serializeModel(two)).equals(Buffer.from(serializeModel(one))), `${algorithm}: the same model`);
  }
});

test('cross-fitting on two threads: tiles (folds by whole image, rasters copied to the workers) give the same bytes', async () => {
  const images = await photos(12, 0, 4);
  const { one, two } = await bothWays('PM', images, { tile_size: 32, working_size: 32, seed: 2 });
  assert.equal(one.evaluation.heldOut.length, two.evaluation.heldOut.length);
  assert.ok(one.evaluation.heldOut.length > 12, `tiles were held out (${one.evaluation.heldOut.length})`);
  assert.deepEqual(two.evaluation, one.evaluation);
  assert.ok(Buffer.from(serializeModel(two)).equals(Buffer.from(serializeModel(one))), 'the same model');
});

test('cross-fitting on two threads reports its progress and stops its workers when training is cancelled', async () => {
  const images = await photos(44, 0, 3);
  const controller = new AbortController();
  const fractions: number[] = [];
  const training = trainModel('PS', images, { working_size: 64 }, {
    threads: 2, signal: controller.signal,
    onProgress: (fraction, stage) => {
      fractions.push(fraction);
      if (stage === 'calibrating' && fraction > 0.2) controller.abort();
    },
  });
  await assert.rejects(training, TrainingAbortedError);
  // A worker left running would keep this file's process alive, and the test runner would fail it on its timeout.
  assert.ok(fractions.some((f) => f > 0.1 && f < 0.6), 'progress within cross-fitting');
});
