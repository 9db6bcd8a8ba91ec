import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { predictImage, type TrainedModel, type TrainingImage } from '../src/engine.ts';
import { sampleDataset } from './sample-datasets.ts';

/**
 * (Not a test file itself: imported by rc.test.ts and ae.test.ts.)
 * The integration check shared by the reconstruction algorithms (RC, AE) on a small subset of the cookies
 * set: defect images score above good ones on average, and on defect images with a mask the top box
 * overlaps the mask (on most of them).
 */
export const COOKIES = sampleDataset('cookies');

const byNumber = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

export async function cookieTrainingImages(count: number): Promise<TrainingImage[]> {
  const dir = join(COOKIES, 'train/good');
  const files = (await readdir(dir)).sort(byNumber).slice(0, count);
  return Promise.all(files.map(async (f) => ({ bytes: await readFile(join(dir, f)), good: true })));
}

export async function checkOnCookies(model: TrainedModel, goodCount: number, defectCount: number, checkBox = true): Promise<{ good: number; defect: number }> {
  const goodDir = join(COOKIES, 'test/good');
  const defectDir = join(COOKIES, 'test/defect');
  const goods = (await readdir(goodDir)).sort(byNumber).slice(0, goodCount);
  const defects = (await readdir(defectDir)).sort(byNumber)
    .filter((f) => existsSync(join(COOKIES, 'ground_truth/defect', `${basename(f, extname(f))}_mask.png`)))
    .slice(0, defectCount);
  const goodScores: number[] = [];
  for (const f of goods) goodScores.push((await predictImage(model, await readFile(join(goodDir, f)))).score);
  const defectScores: number[] = [];
  const hits: string[] = [], misses: string[] = [];
  for (const f of defects) {
    const prediction = await predictImage(model, await readFile(join(defectDir, f)));
    defectScores.push(prediction.score);
    if (!checkBox || prediction.boxes.length === 0) continue;
    const top = prediction.boxes.reduce((a, b) => (b.score > a.score ? b : a));
    (await boxTouchesMask(top, join(COOKIES, 'ground_truth/defect', `${basename(f, extname(f))}_mask.png`)) ? hits : misses).push(f);
  }
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const good = mean(goodScores), defect = mean(defectScores);
  assert.ok(defect > good, `mean defect score ${defect.toFixed(3)} ≤ mean good score ${good.toFixed(3)}`);
  if (!checkBox) return { good, defect };
  // Most, not all: some defect photos hold crumbs that are real anomalies but outside the mask.
  assert.ok(hits.length > 0 && hits.length >= misses.length, `top boxes on the mask: ${hits.join(', ')}; off it: ${misses.join(', ')}`);
  return { good, defect };
}

async function boxTouchesMask(box: { x_min: number; y_min: number; x_max: number; y_max: number }, maskPath: string): Promise<boolean> {
  const { data, info } = await sharp(maskPath).greyscale().raw().toBuffer({ resolveWithObject: true });
  for (let y = Math.max(0, box.y_min); y < Math.min(info.height, box.y_max); y++) {
    for (let x = Math.max(0, box.x_min); x < Math.min(info.width, box.x_max); x++) if (data[y * info.width + x] > 127) return true;
  }
  return false;
}
