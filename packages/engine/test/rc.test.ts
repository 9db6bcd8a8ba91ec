import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserializeModel, serializeModel, trainModel } from '../src/engine.ts';
import { checkOnCookies, cookieTrainingImages } from './rc-cookies-check.ts';
import { getAlgorithm } from '../src/algorithms/registry.ts';
import { sampleOf } from '../src/algorithms/types.ts';
import { Random } from '../src/kernels/random.ts';
import { resolveParams } from '../src/params/schema.ts';

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

test('RC reuses a training only for the same samples and the same model-shaping parameters', async () => {
  const random = new Random(1);
  const raster = () => ({ width: 32, height: 24, channels: 3, data: Float32Array.from({ length: 32 * 24 * 3 }, () => random.next()) });
  const rasters = [raster(), raster(), raster()];
  const samples = rasters.map((r) => sampleOf(r, true));
  const rc = getAlgorithm('RC');
  const params = resolveParams(rc.parameters, { train_size: 300 }).values;
  const context = { onProgress: () => {} };
  const first = await rc.train(samples, params, context);
  assert.equal(await rc.train([...samples], { ...params, reconstruct_thresh: 3, detected_area_thresh: 0.5 }, context), first);
  assert.notEqual(await rc.train(samples, { ...params, n_components: 5 }, context), first);
  assert.notEqual(await rc.train(samples.slice(0, 2), params, context), first);
  const copies = rasters.map((r) => sampleOf({ ...r, data: new Float32Array(r.data) }, true));
  const retrained = await rc.train(copies, params, context) as Record<string, unknown>;
  assert.notEqual(retrained, first);
  assert.deepEqual(retrained.basis, (first as Record<string, unknown>).basis, 'training is deterministic');
});
