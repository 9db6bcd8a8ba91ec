import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { predictImage, trainModel, type TrainingImage } from '../src/engine.ts';
import { principalSubspace } from '../src/algorithms/lp/subspace.ts';
import { symmetricEigen } from '../src/kernels/pca.ts';
import { Random } from '../src/kernels/random.ts';
import { sampleDataset } from './sample-datasets.ts';

test('principal subspace finds the planted directions and their variances (against the full covariance)', () => {
  const random = new Random(2);
  const n = 300, d = 20, planted = 3;
  const rows = new Float32Array(n * d);
  const scales = [5, 3, 2];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) rows[r * d + j] = random.normal() * 0.3;
    for (let c = 0; c < planted; c++) {
      const w = random.normal() * scales[c];
      for (let j = 0; j < d; j++) rows[r * d + j] += w * Math.sin((c + 1) * (j + 1) * 0.7) / Math.sqrt(d / 2);
    }
  }
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += rows[r * d + j] / n;
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) rows[r * d + j] -= mean[j];
  const covariance = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) covariance[i * d + j] += (rows[r * d + i] * rows[r * d + j]) / (n - 1);
  const exact = symmetricEigen(covariance, d);
  const { basis, variances } = principalSubspace(rows, n, d, planted, new Random(3));
  for (let c = 0; c < planted; c++) {
    assert.ok(Math.abs(variances[c] - exact.values[c]) / exact.values[c] < 1e-3, `variance ${c}: ${variances[c]} vs ${exact.values[c]}`);
    let dot = 0;
    for (let j = 0; j < d; j++) dot += basis[c * d + j] * exact.vectors[c * d + j];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-3, `direction ${c}: |cos| = ${Math.abs(dot)}`);
  }
});

/** A 96×96 part: bars and a ring, placed at (dx, dy); optionally with a 5×5 dark spot on a bar. */
async function part(dx: number, dy: number, random: Random, spot = false): Promise<Uint8Array> {
  const size = 96;
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const u = x - dx, v = y - dy;
    const bar = (u % 24) < 8;
    const ring = Math.abs(Math.hypot(u - 48, v - 48) - 25) < 3;
    let value = (bar ? 190 : 60) + (ring ? 50 : 0) + random.next() * 12;
    if (spot && u >= 50 && u < 55 && v >= 70 && v < 75) value = 110;
    data.set([value, value, value * 0.8], (y * size + x) * 3);
  }
  return sharp(data, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

test('LP allows small shifts within max_shift but finds a small local change', async () => {
  const random = new Random(4);
  const training: TrainingImage[] = [];
  for (let k = 0; k < 8; k++) training.push({ bytes: await part(random.int(3) - 1, random.int(3) - 1, random), good: true });
  const shifted = await part(4, -3, random);
  const spotted = await part(0, 0, random, true);
  const tolerant = await trainModel('LP', training, { working_size: 96, max_shift: 4 });
  const strict = await trainModel('LP', training, { working_size: 96, max_shift: 0 });
  const tolerantShifted = (await predictImage(tolerant, shifted)).score;
  const spot = await predictImage(tolerant, spotted);
  const strictShifted = (await predictImage(strict, shifted)).score;
  assert.ok(spot.score > 2 * tolerantShifted, `spot ${spot.score} vs shifted part ${tolerantShifted}`);
  assert.ok(strictShifted > 2 * tolerantShifted, `without shifts a moved part looks defective: ${strictShifted} vs ${tolerantShifted}`);
  assert.equal(spot.label, 'NG');
  const box = spot.boxes[0];
  assert.ok(box && box.x_min < 55 && box.x_max > 50 && box.y_min < 75 && box.y_max > 70, `box ${JSON.stringify(box)} on the spot`);
});

const COOKIES = `${sampleDataset('cookies')}/`;

test('LP on a subset of the cookies: defects score above good images, the top box overlaps the mask', async () => {
  const list = async (dir: string) => (await readdir(join(COOKIES, dir))).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).map((f) => join(COOKIES, dir, f));
  const training = await Promise.all((await list('train/good')).slice(0, 12).map(async (path) => ({ bytes: await readFile(path), good: true })));
  const model = await trainModel('LP', training, {});
  const good = (await list('test/good')).slice(0, 4);
  const masks = new Set(await list('ground_truth/defect'));
  const defects = (await list('test/defect')).filter((p) => masks.has(p.replace('/test/', '/ground_truth/').replace(/\.jpg$/, '_mask.png'))).slice(0, 4);
  const score = async (path: string) => predictImage(model, await readFile(path));
  const goodScores = await Promise.all(good.map(async (p) => (await score(p)).score));
  const defectPredictions = await Promise.all(defects.map(score));
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(defectPredictions.map((p) => p.score)) > mean(goodScores), `defects ${defectPredictions.map((p) => p.score)} vs good ${goodScores}`);
  let hits = 0;
  for (let i = 0; i < defects.length; i++) {
    const box = defectPredictions[i].boxes[0];
    if (!box) continue;
    const maskPath = defects[i].replace('/test/', '/ground_truth/').replace(/\.jpg$/, '_mask.png');
    const { data, info } = await sharp(maskPath).greyscale().raw().toBuffer({ resolveWithObject: true });
    let inside = 0;
    for (let y = box.y_min; y < box.y_max; y++) for (let x = box.x_min; x < box.x_max; x++) if (data[(y * info.width + x) * info.channels] > 127) inside++;
    if (inside > 0) hits++;
  }
  assert.ok(hits >= defects.length / 2, `top boxes on the mask in ${hits} of ${defects.length} defect images`);
});
