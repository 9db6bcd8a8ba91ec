import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { predictImage, trainModel } from '../src/engine.ts';

const COOKIES = join(import.meta.dirname, '../../../../shared/datasets/cookies');
const read = (path: string) => readFile(join(COOKIES, path));
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

test('OC on a subset of cookies: defect images score above good ones on average', async () => {
  const training = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (k) => ({ bytes: await read(`train/good/normal-${k}.jpg`), good: true })));
  const model = await trainModel('OC', training, { working_size: 128, contamination: 0.01, train_size: 3000 });
  assert.equal(model.algorithm, 'OC');
  const good = await Promise.all([1, 2, 3, 4].map(async (k) => (await predictImage(model, await read(`test/good/test-normal-${k}.jpg`))).score));
  const defect = await Promise.all([1, 2, 3, 4].map(async (k) => (await predictImage(model, await read(`test/defect/anomaly-${k}.jpg`))).score));
  assert.ok(mean(defect) > mean(good), `defect ${defect.map((s) => s.toFixed(2))} vs good ${good.map((s) => s.toFixed(2))}`);
});
