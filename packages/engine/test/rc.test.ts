import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserializeModel, serializeModel, trainModel } from '../src/engine.ts';
import { checkOnCookies, cookieTrainingImages } from './rc-cookies-check.ts';

test('RC on a cookies subset: defects score higher than good cookies, the top box lies on the defect', async () => {
  const images = await cookieTrainingImages(10);
  // Explicit values skip AutoTune, which would multiply the training time of this test.
  const params = { n_components: 10, reconstruct_thresh: 2, detected_area_thresh: 0.1 };
  const model = await trainModel('RC', images, params);
  const { good, defect } = await checkOnCookies(model, 5, 6);
  assert.ok(defect > 1.2 * good, `defects ${defect} vs good ${good}`);
  // The model survives its blob and predicts the same.
  const again = deserializeModel(serializeModel(model));
  assert.deepEqual(await checkOnCookies(again, 5, 6), { good, defect });
});

test('RC with the PCA dictionary also ranks defects above good cookies', async () => {
  const images = await cookieTrainingImages(10);
  const model = await trainModel('RC', images, { n_components: 10, reconstruct_thresh: 2, detected_area_thresh: 0.1, reconstruct_algorithm_name: 'pca' });
  // Boxes are not checked: on this subset PCA's strongest box on the top defect sits on the tray's edge.
  await checkOnCookies(model, 5, 6, false);
});
