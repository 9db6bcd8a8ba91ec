import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainModel } from '../src/engine.ts';
import type { StageValues } from '../src/training/progress.ts';
import { checkOnCookies, cookieTrainingImages } from './rc-cookies-check.ts';

test('AE on a cookies subset: defects score higher than good cookies, the top box lies on the defect', async () => {
  const images = await cookieTrainingImages(10);
  const epochs: StageValues[] = [];
  // A smaller sample and fewer epochs than the defaults keep this test within CI time.
  const model = await trainModel('AE', images, { train_size: 1024, epochs: 30 }, { onProgress: (_, stage, values) => { if (stage === 'epoch') epochs.push(values!); } });
  assert.ok(epochs.length > 0 && epochs.every((e) => e.epochs === 30 && typeof e.loss === 'string'), 'training reports progress per epoch');
  const epochsRun = model.state.epochsRun as number;
  assert.ok(epochsRun >= 1 && epochsRun <= 30);
  await checkOnCookies(model, 5, 6);
});

test('AE training stops when its signal is aborted', async () => {
  const images = await cookieTrainingImages(4);
  const controller = new AbortController();
  const started = performance.now();
  const training = trainModel('AE', images, { train_size: 512, epochs: 10000 }, {
    signal: controller.signal,
    onProgress: (_, stage, values) => { if (stage === 'epoch' && values?.epoch === 3) controller.abort(); },
  });
  await assert.rejects(training, { name: 'TrainingAbortedError' });
  assert.ok(performance.now() - started < 60_000);
});
