import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Box } from '../src/algorithms/types.ts';
import { predictImage, trainModel, type TrainingImage } from '../src/engine.ts';
import { mixedGrove } from '../src/algorithms/rf/index.ts';
import { TrainingAbortedError } from '../src/algorithms/types.ts';
import { Random } from '../src/kernels/random.ts';
import { encodeBlob } from '../src/model/blob.ts';
import { resolveParams } from '../src/params/schema.ts';

const COOKIES = join(import.meta.dirname, '../../../../shared/datasets/cookies');
const read = (path: string) => readFile(join(COOKIES, path));
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

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
  const training: TrainingImage[] = await Promise.all([1, 2, 3, 4, 5, 6].map(async (k) => ({ bytes: await read(`train/good/normal-${k}.jpg`), good: true })));
  for (const k of [1, 3, 5, 7, 10, 12]) training.push({ bytes: await read(`test/defect/anomaly-${k}.jpg`), good: false, boxes: [(await maskOf(k)).box] });
  const model = await trainModel('RF', training, { working_size: 128, n_estimators: 30, train_size: 4000 });
  assert.equal(model.algorithm, 'RF');
  const good = await Promise.all([1, 2, 3, 4].map(async (k) => (await predictImage(model, await read(`test/good/test-normal-${k}.jpg`))).score));
  const heldOut = [2, 4, 6, 8];
  const predictions = await Promise.all(heldOut.map(async (k) => predictImage(model, await read(`test/defect/anomaly-${k}.jpg`))));
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

test('RF: the same seed gives the same model, another seed another; progress rises to 1; cancelling stops training', async () => {
  const random = new Random(1);
  const samples = Array.from({ length: 6 }, (_, k) => {
    const data = new Float32Array(40 * 32 * 3);
    for (let i = 0; i < data.length; i++) data[i] = 0.4 + 0.2 * Math.sin(i / 50) + random.next() * 0.1;
    // The last image has a bright annotated square (RF needs a defect).
    const boxes = k === 5 ? [{ x_min: 8, y_min: 8, x_max: 20, y_max: 20 }] : [];
    for (const b of boxes) for (let y = b.y_min; y < b.y_max; y++) for (let x = b.x_min; x < b.x_max; x++) data.fill(1, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    return { raster: { width: 40, height: 32, channels: 3, data }, good: k < 5, boxes };
  });
  const params = (seed: number) => resolveParams(mixedGrove.parameters, { n_estimators: 20, detected_area_thresh: 0.1, train_size: 600, seed }).values;
  const progress: number[] = [];
  const bytes = async (seed: number) => encodeBlob(await mixedGrove.train(samples, params(seed), { onProgress: (f: number) => progress.push(f) }));
  const first = await bytes(3);
  assert.ok(Buffer.from(first).equals(Buffer.from(await bytes(3))), 'same seed, same model');
  assert.ok(!Buffer.from(first).equals(Buffer.from(await bytes(4))), 'the seed matters');
  for (let i = 1; i < progress.length; i++) if (progress[i] < progress[i - 1]) assert.ok(progress[i] === 0, 'progress only restarts with a new training');
  assert.equal(progress[progress.length - 1], 1);
  const controller = new AbortController();
  await assert.rejects(
    async () => mixedGrove.train(samples, params(3), { onProgress: (f: number) => { if (f > 0.25) controller.abort(); }, signal: controller.signal }),
    TrainingAbortedError,
  );
});
