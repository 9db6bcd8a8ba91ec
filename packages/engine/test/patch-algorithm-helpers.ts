// Scaffolding shared by the tests of the patch-vector algorithms (IF, OC, RF): the cookies subset they
// score, and the seed / progress / cancel checks every trainable algorithm must pass.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { predictImage, type TrainedModel } from '../src/engine.ts';
import { sampleOf, TrainingAbortedError, type AlgorithmDefinition, type ModelState, type TrainingSample } from '../src/algorithms/types.ts';
import { Random } from '../src/kernels/random.ts';
import { encodeBlob } from '../src/model/blob.ts';
import { resolveParams, type ParamValues } from '../src/params/schema.ts';
import { sampleDataset } from './sample-datasets.ts';

export const COOKIES = sampleDataset('cookies');
export const readCookie = (path: string) => readFile(join(COOKIES, path));
export const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** Image scores of the model on cookies' test/good/test-normal-k.jpg for each k. */
export const goodCookieScores = (model: TrainedModel, ks: number[]) =>
  Promise.all(ks.map(async (k) => (await predictImage(model, await readCookie(`test/good/test-normal-${k}.jpg`))).score));

/** Image scores of the model on cookies' test/defect/anomaly-k.jpg for each k. */
export const defectCookieScores = (model: TrainedModel, ks: number[]) =>
  Promise.all(ks.map(async (k) => (await predictImage(model, await readCookie(`test/defect/anomaly-${k}.jpg`))).score));

/** Six small noisy rasters, five good; the last has a bright annotated square (RF needs a defect). */
export function smallSamples(): TrainingSample[] {
  const random = new Random(1);
  return Array.from({ length: 6 }, (_, k) => {
    const data = new Float32Array(40 * 32 * 3);
    for (let i = 0; i < data.length; i++) data[i] = 0.4 + 0.2 * Math.sin(i / 50) + random.next() * 0.1;
    const boxes = k === 5 ? [{ x_min: 8, y_min: 8, x_max: 20, y_max: 20 }] : [];
    for (const b of boxes) for (let y = b.y_min; y < b.y_max; y++) for (let x = b.x_min; x < b.x_max; x++) data.fill(1, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    return sampleOf({ width: 40, height: 32, channels: 3, data }, k < 5, boxes);
  });
}

/**
 * Trains `algorithm` directly on smallSamples() and checks: the same seed gives the same model bytes,
 * another seed other bytes; progress only rises (restarting at 0 per training) and ends at 1; aborting
 * once progress passes 0.25 rejects with TrainingAbortedError.
 */
export async function assertSeededProgressingCancellable<S extends ModelState>(algorithm: AlgorithmDefinition<S>, given: ParamValues): Promise<void> {
  const samples = smallSamples();
  const params = (seed: number) => resolveParams(algorithm.parameters, { ...given, seed }).values;
  const progress: number[] = [];
  const bytes = async (seed: number) => encodeBlob(await algorithm.train(samples, params(seed), { onProgress: (f: number) => progress.push(f) }));
  const first = await bytes(3);
  assert.ok(Buffer.from(first).equals(Buffer.from(await bytes(3))), 'same seed, same model');
  assert.ok(!Buffer.from(first).equals(Buffer.from(await bytes(4))), 'the seed matters');
  for (let i = 1; i < progress.length; i++) if (progress[i] < progress[i - 1]) assert.ok(progress[i] === 0, 'progress only restarts with a new training');
  assert.equal(progress[progress.length - 1], 1);
  const controller = new AbortController();
  await assert.rejects(
    async () => algorithm.train(samples, params(3), { onProgress: (f: number) => { if (f > 0.25) controller.abort(); }, signal: controller.signal }),
    TrainingAbortedError,
  );
}
