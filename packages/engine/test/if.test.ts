import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { predictImage, trainModel } from '../src/engine.ts';
import { huntersGrove } from '../src/algorithms/if/index.ts';
import { TrainingAbortedError } from '../src/algorithms/types.ts';
import { Random } from '../src/kernels/random.ts';
import { encodeBlob } from '../src/model/blob.ts';
import { resolveParams } from '../src/params/schema.ts';

const COOKIES = join(import.meta.dirname, '../../../../shared/datasets/cookies');
const read = (path: string) => readFile(join(COOKIES, path));
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

test('IF on a subset of cookies: defect images score above good ones on average', async () => {
  const training = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (k) => ({ bytes: await read(`train/good/normal-${k}.jpg`), good: true })));
  const model = await trainModel('IF', training, { working_size: 128, n_estimators: 50, train_size: 4000 });
  assert.equal(model.algorithm, 'IF');
  const good = await Promise.all([1, 2, 3, 4].map(async (k) => (await predictImage(model, await read(`test/good/test-normal-${k}.jpg`))).score));
  const defect = await Promise.all([1, 2, 3, 4].map(async (k) => (await predictImage(model, await read(`test/defect/anomaly-${k}.jpg`))).score));
  assert.ok(mean(defect) > mean(good), `defect ${defect.map((s) => s.toFixed(2))} vs good ${good.map((s) => s.toFixed(2))}`);
});

test('IF: the same seed gives the same model, another seed another; progress rises to 1; cancelling stops training', async () => {
  const random = new Random(1);
  const samples = Array.from({ length: 6 }, (_, k) => {
    const data = new Float32Array(40 * 32 * 3);
    for (let i = 0; i < data.length; i++) data[i] = 0.4 + 0.2 * Math.sin(i / 50) + random.next() * 0.1;
    // The last image has a bright annotated square (RF needs a defect).
    const boxes = k === 5 ? [{ x_min: 8, y_min: 8, x_max: 20, y_max: 20 }] : [];
    for (const b of boxes) for (let y = b.y_min; y < b.y_max; y++) for (let x = b.x_min; x < b.x_max; x++) data.fill(1, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    return { raster: { width: 40, height: 32, channels: 3, data }, good: k < 5, boxes };
  });
  const params = (seed: number) => resolveParams(huntersGrove.parameters, { n_estimators: 20, contamination: 0.01, train_size: 600, seed }).values;
  const progress: number[] = [];
  const bytes = async (seed: number) => encodeBlob(await huntersGrove.train(samples, params(seed), { onProgress: (f: number) => progress.push(f) }));
  const first = await bytes(3);
  assert.ok(Buffer.from(first).equals(Buffer.from(await bytes(3))), 'same seed, same model');
  assert.ok(!Buffer.from(first).equals(Buffer.from(await bytes(4))), 'the seed matters');
  for (let i = 1; i < progress.length; i++) if (progress[i] < progress[i - 1]) assert.ok(progress[i] === 0, 'progress only restarts with a new training');
  assert.equal(progress[progress.length - 1], 1);
  const controller = new AbortController();
  await assert.rejects(
    async () => huntersGrove.train(samples, params(3), { onProgress: (f: number) => { if (f > 0.25) controller.abort(); }, signal: controller.signal }),
    TrainingAbortedError,
  );
});
