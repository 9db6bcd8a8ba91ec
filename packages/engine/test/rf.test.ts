import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box } from '../src/algorithms/types.ts';
import { predictImage, trainModel, type TrainingImage } from '../src/engine.ts';
import { randomForestInspection } from '../src/algorithms/rf/index.ts';
import { assertSeededProgressingCancellable, COOKIES, goodCookieScores, mean, readCookie } from './patch-algorithm-helpers.ts';

/** A defect mask in original pixels: the binary map and the box around it. */
async function maskOf(k: number): Promise<{ width: number; mask: Uint8Array; box: Box }> {
  const { data, info } = await sharp(join(COOKIES, `ground_truth/defect/anomaly-${k}_mask.png`)).greyscale().raw().toBuffer({ resolveWithObject: true });
  const box = { x_min: info.width, y_min: info.height, x_max: 0, y_max: 0 };
  const mask = new Uint8Array(info.width * info.height);
  for (let i = 0; i < mask.length; i++) {
    if (data[i] <= 127) continue;
    mask[i] = 1;
    const x = i % info.width, y = Math.floor(i / info.width);
    box.x_min = Math.min(box.x_min, x); box.y_min = Math.min(box.y_min, y);
    box.x_max = Math.max(box.x_max, x + 1); box.y_max = Math.max(box.y_max, y + 1);
  }
  return { width: info.width, mask, box };
}

test('RF on a subset of cookies: defects score above good images, and the top box overlaps the mask', async () => {
  const training: TrainingImage[] = await Promise.all([1, 2, 3, 4, 5, 6].map(async (k) => ({ bytes: await readCookie(`train/good/normal-${k}.jpg`), good: true })));
  for (const k of [1, 3, 5, 7, 10, 12]) training.push({ bytes: await readCookie(`test/defect/anomaly-${k}.jpg`), good: false, boxes: [(await maskOf(k)).box] });
  const model = await trainModel('RF', training, { working_size: 128, n_estimators: 30, train_size: 4000 });
  assert.equal(model.algorithm, 'RF');
  const good = await goodCookieScores(model, [1, 2, 3, 4]);
  const heldOut = [2, 4, 6, 8];
  const predictions = await Promise.all(heldOut.map(async (k) => predictImage(model, await readCookie(`test/defect/anomaly-${k}.jpg`))));
  const defect = predictions.map((p) => p.score);
  assert.ok(mean(defect) > mean(good), `defect ${defect.map((s) => s.toFixed(2))} vs good ${good.map((s) => s.toFixed(2))}`);
  // The highest-scoring box of a held-out defect image covers some of its mask.
  let overlapping = 0;
  for (let i = 0; i < heldOut.length; i++) {
    const boxes = [...predictions[i].boxes].sort((a, b) => b.score - a.score);
    if (boxes.length === 0) continue;
    const { width, mask } = await maskOf(heldOut[i]);
    const top = boxes[0];
    let hit = false;
    for (let y = top.y_min; y < top.y_max && !hit; y++) for (let x = top.x_min; x < top.x_max; x++) if (mask[y * width + x]) { hit = true; break; }
    if (hit) overlapping++;
  }
  assert.ok(overlapping >= 3, `the top box overlapped the mask on ${overlapping} of ${heldOut.length} held-out defect images`);
});

test('RF: the same seed gives the same model, another seed another; progress rises to 1; cancelling stops training', () =>
  assertSeededProgressingCancellable(randomForestInspection, { n_estimators: 20, detected_area_thresh: 0.1, train_size: 600 }));
