import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { deserializeModel, predictImage, serializeModel, trainModel, type TrainingImage } from '../src/engine.ts';
import { filterBank, poolOnGrid } from '../src/features/filter-bank.ts';
import { patchGrid } from '../src/features/patches.ts';
import { createPatchSample, DEFAULT_PS_CONFIG, patchSample } from '../src/algorithms/ps/index.ts';
import { sampleOf } from '../src/algorithms/types.ts';
import { resolveParams } from '../src/params/schema.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { sampleDataset } from './sample-datasets.ts';

const topBox = <B extends { score: number }>(boxes: B[]): B | undefined => boxes.reduce<B | undefined>((a, b) => (a && a.score >= b.score ? a : b), undefined);

/**
 * A 112×112 photo of a round biscuit with dark chips on a grey tray, turned by `angle` and moved by
 * (dx, dy); optionally with a dark crack across part of it (in the biscuit's own frame).
 */
async function biscuit(angle: number, dx: number, dy: number, random: Random, crack = false): Promise<Uint8Array> {
  const size = 112;
  const data = Buffer.alloc(size * size * 3);
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const chips = [[-14, -10], [12, -16], [4, 14], [-16, 12], [18, 6]];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const px = x - size / 2 - dx, py = y - size / 2 - dy;
    const u = cos * px + sin * py, v = -sin * px + cos * py;
    let rgb = [70, 72, 76];
    if (Math.hypot(u, v) < 32) {
      rgb = [205, 160, 105];
      if (chips.some(([cu, cv]) => Math.hypot(u - cu, v - cv) < 4)) rgb = [80, 50, 35];
      if (crack && Math.abs(v - 0.3 * u) < 1.6 && u > -6 && u < 24) rgb = [60, 55, 50];
    }
    const noise = random.next() * 10;
    data.set(rgb.map((c) => c + noise), (y * size + x) * 3);
  }
  return sharp(data, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

test('filter-bank features do not change when the image turns by 90°', () => {
  const random = new Random(1);
  const width = 48, height = 48;
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = 0.5 + 0.3 * Math.sin(x * 0.4) * Math.cos(y * 0.25) + random.next() * 0.05;
    data.set([v, v * 0.8, v * 0.6], (y * width + x) * 3);
  }
  const turned = new Float32Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    // (x, y) → (height − 1 − y, x): a quarter turn clockwise.
    turned.set(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3), (x * height + (height - 1 - y)) * 3);
  }
  const options = { levels: 3, colour: true, normalise: 'none' as const };
  const grid = patchGrid(width, height, 8, 8, 8);
  const a = poolOnGrid(filterBank({ width, height, channels: 3, data }, options), grid);
  const b = poolOnGrid(filterBank({ width: height, height: width, channels: 3, data: turned }, options), grid);
  // Interior patch (gx, gy) of the original lands at (columns − 1 − gy, gx) of the turned image.
  let worst = 0;
  for (let gy = 1; gy < grid.rows - 1; gy++) for (let gx = 1; gx < grid.columns - 1; gx++) {
    const pa = gy * grid.columns + gx, pb = gx * grid.columns + (grid.columns - 1 - gy);
    for (let j = 0; j < a.dims; j++) worst = Math.max(worst, Math.abs(a.data[pa * a.dims + j] - b.data[pb * b.dims + j]));
  }
  assert.ok(worst < 1e-3, `largest feature change ${worst}`);
});

test('PS: a good part turned and moved passes, a cracked one fails with its box on the crack', async () => {
  const random = new Random(2);
  const training: TrainingImage[] = [];
  for (let k = 0; k < 10; k++) {
    training.push({ bytes: await biscuit(random.next() * 2 * Math.PI, random.int(21) - 10, random.int(21) - 10, random), good: true });
  }
  const model = await trainModel('PS', training, { working_size: 112 });
  const turned = await predictImage(model, await biscuit(1.1, 8, -7, random));
  const cracked = await predictImage(model, await biscuit(2.3, -6, 5, random, true));
  assert.ok(cracked.score > 1.5 * turned.score, `cracked ${cracked.score} vs turned good ${turned.score}`);
  assert.equal(cracked.label, 'NG');
  // The crack runs from u = −6 to 24 along v = 0.3u in the biscuit's frame: turned by 2.3 rad, moved by (−6, 5).
  const box = topBox(cracked.boxes);
  const cos = Math.cos(2.3), sin = Math.sin(2.3);
  const middle = { u: 9, v: 2.7 };
  const cx = 56 - 6 + cos * middle.u - sin * middle.v, cy = 56 + 5 + sin * middle.u + cos * middle.v;
  assert.ok(box && box.x_min <= cx && box.x_max >= cx && box.y_min <= cy && box.y_max >= cy, `box ${JSON.stringify(box)} around (${cx}, ${cy})`);

  // A saved model predicts the same.
  const reloaded = deserializeModel(serializeModel(model));
  assert.equal((await predictImage(reloaded, await biscuit(2.3, -6, 5, new Random(2), true))).score,
    (await predictImage(model, await biscuit(2.3, -6, 5, new Random(2), true))).score);
});

/** An L-shaped bright part on a dark ground, 96×96, its corner at (x0, y0); mirrored when `flip`. */
function lPart(x0: number, y0: number, flip: boolean, random: Random): Raster {
  const size = 96;
  const data = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const u = flip ? x0 - x : x - x0, v = y - y0;
    const on = (u >= 0 && u < 40 && v >= 0 && v < 8) || (u >= 0 && u < 8 && v >= 0 && v < 36);
    const value = (on ? 0.8 : 0.2) + random.next() * 0.05;
    data.set([value, value * 0.9, value * 0.7], (y * size + x) * 3);
  }
  return { width: size, height: size, channels: 3, data };
}

for (const context of ['auto', 'on'] as const) {
  test(`placement auto: position counts for a part that sits still, not for one that moves (context windows ${context})`, async () => {
    // With context windows every plane has two columns; the position weights grow by √2 so that the check decides alike.
    const ps = createPatchSample({ ...DEFAULT_PS_CONFIG, context });
    const random = new Random(3);
    const { values } = resolveParams(ps.parameters, {});
    const train = async (rasters: Raster[]) => ps.train(rasters.map((raster) => sampleOf(raster, true)), values, { onProgress: () => {} });
    const still = await train(Array.from({ length: 8 }, () => lPart(24 + random.int(3), 24 + random.int(3), false, random)));
    const moving = await train(Array.from({ length: 8 }, () => lPart(8 + random.int(48), 8 + random.int(48), random.next() < 0.5, random)));
    assert.ok(still.positionWeight > 0, `still part: cost ${still.positionCost}`);
    assert.equal(moving.positionWeight, 0, `moving part: cost ${moving.positionCost}`);
    assert.ok(moving.positionCost > still.positionCost);
    const scale = still.contextMargin > 0 ? Math.SQRT2 : 1;
    assert.ok(context === 'auto' || scale > 1, 'context windows on');
    assert.ok(Math.abs(still.positionWeight - scale * DEFAULT_PS_CONFIG.positionGain * still.positionR2 ** 2) < 1e-9 * still.positionWeight);
  });
}

const COOKIES = `${sampleDataset('cookies')}/`;

test('PS on a subset of the cookies: defects score above good images, the top box overlaps the mask', async () => {
  const list = async (dir: string) => (await readdir(join(COOKIES, dir))).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).map((f) => join(COOKIES, dir, f));
  const training = await Promise.all((await list('train/good')).slice(0, 12).map(async (path) => ({ bytes: await readFile(path), good: true })));
  const model = await trainModel('PS', training, {});
  const good = (await list('test/good')).slice(0, 4);
  const maskOf = (path: string) => path.replace('/test/', '/ground_truth/').replace(/\.jpg$/, '_mask.png');
  const masks = new Set(await list('ground_truth/defect'));
  const defects = (await list('test/defect')).filter((p) => masks.has(maskOf(p))).slice(0, 4);
  const score = async (path: string) => predictImage(model, await readFile(path));
  const goodScores = await Promise.all(good.map(async (p) => (await score(p)).score));
  const defectPredictions = await Promise.all(defects.map(score));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(defectPredictions.map((p) => p.score)) > mean(goodScores), `defects ${defectPredictions.map((p) => p.score)} vs good ${goodScores}`);
  let hits = 0;
  for (let i = 0; i < defects.length; i++) {
    const box = topBox(defectPredictions[i].boxes);
    if (!box) continue;
    const { data, info } = await sharp(maskOf(defects[i])).greyscale().raw().toBuffer({ resolveWithObject: true });
    let inside = 0;
    for (let y = box.y_min; y < box.y_max; y++) for (let x = box.x_min; x < box.x_max; x++) if (data[(y * info.width + x) * info.channels] > 127) inside++;
    if (inside > 0) hits++;
  }
  assert.ok(hits >= defects.length / 2, `top boxes on the mask in ${hits} of ${defects.length} defect images`);
});
