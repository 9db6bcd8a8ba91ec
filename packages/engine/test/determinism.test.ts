import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { AUTOTUNE_MAX_TRIALS, deserializeModel, predictImage, serializeModel, trainModel, type TrainingImage } from '../src/engine.ts';
import { Random } from '../src/kernels/random.ts';

/** Small aligned product photos: a disc on a textured background, slightly varied in tone and noise. */
async function photos(count: number, seed: number): Promise<(TrainingImage & { bytes: Uint8Array })[]> {
  const random = new Random(seed);
  const out: (TrainingImage & { bytes: Uint8Array })[] = [];
  for (let k = 0; k < count; k++) {
    const width = 64, height = 48;
    const data = Buffer.alloc(width * height * 3);
    const tone = random.next() * 10;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const disc = (x - 32) ** 2 + (y - 24) ** 2 < 14 ** 2;
      const v = (disc ? 180 : 70) + tone + random.next() * 20;
      data.set([v, v * 0.9, v * 0.7], (y * width + x) * 3);
    }
    out.push({ bytes: await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer(), good: true });
  }
  return out;
}

test('the same data and seed give byte-identical models (PM and LP); another seed changes LP', async () => {
  const images = await photos(6, 1);
  for (const algorithm of ['PM', 'LP']) {
    const params = { working_size: 64, seed: 7 };
    const a = serializeModel(await trainModel(algorithm, images, params));
    const b = serializeModel(await trainModel(algorithm, images, params));
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${algorithm}: two trainings gave different bytes`);
    const again = deserializeModel(a);
    assert.ok(Buffer.from(serializeModel(again)).equals(Buffer.from(a)), `${algorithm}: a loaded model serialises to the same bytes`);
  }
  const lp = (seed: number) => trainModel('LP', images, { working_size: 64, seed }).then(serializeModel);
  assert.ok(!Buffer.from(await lp(1)).equals(Buffer.from(await lp(2))), 'the seed matters');
});

test('AutoTune is bounded by a count of candidates, not by the clock: a seed gives the same candidates and the same model', async () => {
  const images = await photos(6, 4);
  const params = { working_size: 64, train_size: 2000, seed: 3 };
  const first = await trainModel('RC', images, params);
  const second = await trainModel('RC', images, params);
  assert.ok(Buffer.from(serializeModel(first)).equals(Buffer.from(serializeModel(second))), 'the same bytes');
  assert.deepEqual(second.autoTuned, first.autoTuned);
  // RC's candidates in schema order: its five n_components use up the trials (these small images would have let a
  // time budget try all ten); the later parameters keep their defaults.
  const tried = Object.values(first.autoTuned).reduce((n, tuned) => n + Object.keys(tuned.scores).length, 0);
  assert.equal(tried, AUTOTUNE_MAX_TRIALS);
  assert.deepEqual(Object.keys(first.autoTuned.n_components.scores), ['3', '5', '10', '20', '30']);
  assert.deepEqual(first.autoTuned.reconstruct_thresh, { chosen: 2, scores: {} });
});

test('a loaded model predicts exactly as the trained one', async () => {
  const images = await photos(5, 2);
  const model = await trainModel('PM', images, { working_size: 64 });
  const loaded = deserializeModel(serializeModel(model));
  const [probe] = await photos(1, 3);
  const before = await predictImage(model, probe.bytes);
  const after = await predictImage(loaded, probe.bytes);
  assert.equal(after.score, before.score);
  assert.deepEqual(Array.from(after.calibratedMap.data), Array.from(before.calibratedMap.data));
  assert.equal(loaded.threshold, model.threshold);
});
