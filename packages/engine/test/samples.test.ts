import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { benchAlgorithm, loadMvtecDataset } from '../src/benchmark/mvtec.ts';
import {
  countSampleResults, encodeSampleImage, encodeSampleMask, encodeSampleProject, exportSampleDataset, generateSampleSet, planSampleProject,
  renderSample, runSampleProject, sampleAnnotations, sampleDefects, sampleModelName, SAMPLE_PRODUCTS, sampleTrainingItemIds, sampleUploadBatches, sampleUploads,
} from '../src/samples/index.ts';

const maskArea = (mask: Uint8Array) => mask.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);

test('the same seed gives the same bytes; another seed another image', async () => {
  for (const product of SAMPLE_PRODUCTS) {
    for (const defect of [null, sampleDefects(product)[0]]) {
      const a = renderSample(product, defect, 42), b = renderSample(product, defect, 42);
      assert.ok((await encodeSampleImage(a)).equals(await encodeSampleImage(b)), `${product}/${defect}: PNG bytes differ`);
      assert.ok((await encodeSampleImage(a, 'jpeg')).equals(await encodeSampleImage(b, 'jpeg')), `${product}/${defect}: JPEG bytes differ`);
      assert.ok((await encodeSampleMask(a)).equals(await encodeSampleMask(b)), `${product}/${defect}: mask bytes differ`);
      assert.ok(!(await encodeSampleImage(a)).equals(await encodeSampleImage(renderSample(product, defect, 43))), `${product}/${defect}: the seed is ignored`);
    }
  }
  // Image k of a set does not depend on how many images come before it.
  const few = [...generateSampleSet({ seed: 5, product: 'wood', counts: { trainGood: 1, testGood: 1, testPerDefect: 1 } })];
  const more = [...generateSampleSet({ seed: 5, product: 'wood', counts: { trainGood: 3, testGood: 1, testPerDefect: 1 } })];
  const knot = (set: typeof few) => set.find((s) => s.defect === 'knot')!;
  assert.deepEqual(knot(few).pixels, knot(more).pixels);
});

test('masks are non-empty exactly for defect images, small, boxed, and follow the part', () => {
  for (const product of SAMPLE_PRODUCTS) {
    const set = [...generateSampleSet({ seed: 11, product, counts: { trainGood: 3, testGood: 3, testPerDefect: 4 } })];
    assert.equal(set.length, 6 + 4 * sampleDefects(product).length);
    assert.equal(new Set(set.map((s) => s.name)).size, set.length, 'names are unique (they become item ids)');
    for (const sample of set) {
      const area = maskArea(sample.mask);
      if (sample.defect === null) {
        assert.equal(area, 0, `${sample.name}: a good image has an empty mask`);
        assert.equal(sample.boxes.length, 0);
        continue;
      }
      assert.ok(area >= 15, `${sample.name}: defect mask has only ${area} pixels`);
      assert.ok(area < 0.03 * sample.width * sample.height, `${sample.name}: defect mask covers ${area} pixels, too much for a defect`);
      assert.ok(sample.boxes.length >= 1 && sample.boxes.length <= 2, `${sample.name}: ${sample.boxes.length} boxes`);
      let inside = 0;
      for (let i = 0; i < sample.mask.length; i++) {
        if (!sample.mask[i]) continue;
        const x = i % sample.width, y = Math.floor(i / sample.width);
        if (sample.boxes.some((b) => x >= b.x_min && x < b.x_max && y >= b.y_min && y < b.y_max)) inside++;
      }
      assert.equal(inside, area, `${sample.name}: every mask pixel lies in a box`);
    }
    // Good images are not copies of each other: placement, light, texture and noise vary.
    const goods = set.filter((s) => s.defect === null);
    let difference = 0;
    for (let i = 0; i < goods[0].pixels.length; i++) difference += Math.abs(goods[0].pixels[i] - goods[1].pixels[i]);
    assert.ok(difference / goods[0].pixels.length > 5, `${product}: two good images differ by only ${difference / goods[0].pixels.length} grey levels on average`);
  }
});

test('the MVTec export loads as a dataset, and PM finds the defects (image AUROC well above 0.5)', { timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'kensa-samples-'));
  try {
    for (const product of SAMPLE_PRODUCTS) {
      const dir = join(root, product);
      const exported = await exportSampleDataset(dir, { seed: 3, product, counts: { trainGood: 12, testGood: 8, testPerDefect: 5 } });
      const defects = sampleDefects(product);
      assert.equal(exported.images, 12 + 8 + 5 * defects.length);
      assert.equal(exported.masks, 5 * defects.length);
      assert.deepEqual((await readdir(join(dir, 'test'))).sort(), ['good', ...defects].sort());
      const dataset = await loadMvtecDataset(dir);
      assert.equal(dataset.train.length, 12);
      assert.equal(dataset.test.filter((t) => t.defect === null).length, 8);
      for (const image of dataset.test.filter((t) => t.defect !== null)) {
        assert.ok(image.maskPath, `${image.path} has its mask`);
        const [picture, mask] = await Promise.all([sharp(image.path).metadata(), sharp(image.maskPath!).metadata()]);
        assert.deepEqual([mask.width, mask.height, mask.channels], [picture.width, picture.height, 1]);
      }
      // PM is the plainest detector (a golden image, blurred): if it finds them, the defects are there to find.
      const result = await benchAlgorithm(dataset, 'PM');
      t.diagnostic(`${product}: PM image AUROC ${result.image_auroc.toFixed(3)}, pixel AUROC ${result.pixel_auroc?.toFixed(3)}`);
      assert.ok(result.image_auroc >= 0.75, `${product}: PM image AUROC ${result.image_auroc.toFixed(3)}`);
      assert.ok((result.pixel_auroc ?? 0) >= 0.85, `${product}: PM pixel AUROC ${result.pixel_auroc}`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the sample project recipe (kensa demo and POST /v1/samples): uploads, labels, boxes, training set, what counts as found', async () => {
  const plan = planSampleProject({ product: 'metal', seed: 3, counts: { trainGood: 12, testGood: 2, testPerDefect: 3 } });
  const uploads = sampleUploads(plan);
  assert.deepEqual(uploads.map((u) => [u.group, u.images.length, u.training, u.good, u.boxDefects]), [
    ['trainGood', 12, true, true, false], ['trainDefective', 4, true, false, true], ['heldBack', 2 + 2, false, null, false],
  ], 'two defective per kind taught, one of each kind held back');
  assert.deepEqual(sampleUploadBatches(plan.trainGood).map((b) => b.length), [10, 2]);
  assert.deepEqual(sampleTrainingItemIds(plan), [...plan.trainGood, ...plan.trainDefective].map((i) => i.itemId));
  const taught = plan.trainDefective[0];
  assert.ok(sampleAnnotations(taught).length >= 1);
  assert.ok(sampleAnnotations(taught).every((box) => box.notes === taught.defect && box.x_max > box.x_min));
  assert.equal(sampleModelName('metal', new Date('2026-12-03T10:41:35.123Z')), 'demo-metal-2026-12-03-10-41-35');

  const encoded = await encodeSampleProject(plan);
  assert.equal(encoded.size, 12 + 4 + 4);
  assert.deepEqual([...(await sharp(encoded.get(taught.itemId)!).raw().toBuffer())], [...taught.sample.pixels], 'lossless PNG of the sample');

  // Found: a defective image judged not good; passed: a good one judged good; no verdict counts as neither.
  const [good, otherGood] = plan.heldBack.filter((i) => i.defect === null);
  const [defective, otherDefective] = plan.heldBack.filter((i) => i.defect !== null);
  const verdicts = new Map([[good.itemId, true], [otherGood.itemId, null], [defective.itemId, false], [otherDefective.itemId, true]]);
  assert.deepEqual(countSampleResults(plan, verdicts), { defective: 2, defective_found: 1, good: 2, good_passed: 1 });
});

test('runSampleProject drives a transport through the recipe: groups in order, boxes after their upload, train, predict, count', async () => {
  const plan = planSampleProject({ product: 'wood', seed: 5, counts: { trainGood: 11, testGood: 1, testPerDefect: 3 } });
  const calls: string[] = [];
  const uploadEvents: string[] = [];
  const outcome = await runSampleProject(plan, {
    onProgress: (progress) => {
      if (progress.step === 'upload') uploadEvents.push(`${progress.upload.group} ${progress.groupDone} ${progress.done}/${progress.total}`);
    },
    upload: async (batch, upload) => {
      assert.ok(batch.every(({ bytes }) => bytes.subarray(1, 4).toString() === 'PNG'));
      calls.push(`upload ${upload.group} ${batch.length}`);
    },
    annotate: async (itemId, boxes) => {
      assert.deepEqual(boxes, sampleAnnotations(plan.trainDefective.find((i) => i.itemId === itemId)!));
      calls.push('annotate');
    },
    train: async ({ itemIds, workingSize }) => {
      assert.deepEqual(itemIds, sampleTrainingItemIds(plan));
      assert.equal(workingSize, plan.photoSide);
      calls.push('train');
      return 7;
    },
    predict: async (itemIds, modelId) => {
      assert.deepEqual(itemIds, plan.heldBack.map((i) => i.itemId));
      assert.equal(modelId, 7);
      calls.push('predict');
      // Every held-back image judged defective.
      return new Map(itemIds.map((id) => [id, false]));
    },
  });
  assert.deepEqual(calls, ['upload trainGood 10', 'upload trainGood 1', 'upload trainDefective 4', 'annotate', 'annotate', 'annotate', 'annotate', 'upload heldBack 3', 'train', 'predict']);
  assert.deepEqual(uploadEvents, [
    'trainGood 0 0/18', 'trainGood 10 10/18', 'trainGood 11 11/18', 'trainDefective 0 11/18', 'trainDefective 4 15/18', 'heldBack 0 15/18', 'heldBack 3 18/18',
  ]);
  assert.equal(outcome.modelId, 7);
  assert.deepEqual(outcome.results, { defective: 2, defective_found: 2, good: 1, good_passed: 0 });
});
