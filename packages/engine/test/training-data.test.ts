import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTrainingData, countTrainingData } from '../src/training/training-data.ts';

test('countTrainingData counts images by label, and NG images that carry boxes', () => {
  const box = { x_min: 0, y_min: 0, x_max: 4, y_max: 4 };
  const counts = countTrainingData([
    { good: true }, { good: true, boxes: [box] }, { good: false }, { good: false, boxes: [box] }, { good: false, boxes: [] }, { good: null },
  ]);
  assert.deepEqual(counts, { ok: 2, ng: 3, ngWithBoxes: 1, unlabelled: 1 });
});

test('checkTrainingData names what an algorithm lacks, with the numbers; nothing when it has enough', () => {
  const none = { ok: 0, ng: 0, ngWithBoxes: 0, unlabelled: 0 };
  assert.deepEqual(checkTrainingData('PM', none), [{ code: 'no-images' }]);
  assert.deepEqual(checkTrainingData('PM', { ...none, ng: 1 }), [{ code: 'too-few-ok-images', needed: 1, got: 0 }]);
  assert.deepEqual(checkTrainingData('PM', { ...none, ok: 1 }), []);
  assert.deepEqual(checkTrainingData('PS', { ...none, ok: 1 }), [{ code: 'too-few-ok-images', needed: 2, got: 1 }]);
  // RF learns from annotated defects too: both problems at once.
  assert.deepEqual(checkTrainingData('RF', { ...none, ng: 2, unlabelled: 3 }), [
    { code: 'too-few-ok-images', needed: 1, got: 0 },
    { code: 'too-few-annotated-ng-images', needed: 1, got: 0 },
  ]);
  assert.deepEqual(checkTrainingData('RF', { ok: 3, ng: 2, ngWithBoxes: 1, unlabelled: 0 }), []);
  assert.throws(() => checkTrainingData('NOPE', none), { name: 'UnknownAlgorithmError' });
});
