import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainModel } from '../src/engine.ts';
import { oneClassSvmInspection } from '../src/algorithms/oc/index.ts';
import { assertSeededProgressingCancellable, defectCookieScores, goodCookieScores, mean, readCookie } from './patch-algorithm-helpers.ts';

test('OC on a subset of cookies: defect images score above good ones on average', async () => {
  const training = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (k) => ({ bytes: await readCookie(`train/good/normal-${k}.jpg`), good: true })));
  const model = await trainModel('OC', training, { working_size: 128, contamination: 0.01, train_size: 3000 });
  assert.equal(model.algorithm, 'OC');
  const good = await goodCookieScores(model, [1, 2, 3, 4]);
  const defect = await defectCookieScores(model, [1, 2, 3, 4]);
  assert.ok(mean(defect) > mean(good), `defect ${defect.map((s) => s.toFixed(2))} vs good ${good.map((s) => s.toFixed(2))}`);
});

test('OC: the same seed gives the same model, another seed another; progress rises to 1; cancelling stops training', () =>
  assertSeededProgressingCancellable(oneClassSvmInspection, { contamination: 0.01, nu_max: 0.1, train_size: 600 }));
