import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitRandomForest, forestProbabilities } from '../src/kernels/random-forest.ts';
import { Random } from '../src/kernels/random.ts';

/** Class 1 inside a ring in the first two features; the other features are noise. */
function ringProblem(n: number, dims: number, random: Random): { data: Float32Array; labels: Uint8Array } {
  const data = new Float32Array(n * dims);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dims; k++) data[i * dims + k] = random.next() * 2 - 1;
    const r = Math.hypot(data[i * dims], data[i * dims + 1]);
    labels[i] = r > 0.4 && r < 0.75 ? 1 : 0;
  }
  return { data, labels };
}

test('the forest separates a non-linear synthetic problem it was not trained on', () => {
  const random = new Random(1);
  const dims = 6;
  const train = ringProblem(3000, dims, random);
  const held = ringProblem(1000, dims, random);
  const forest = fitRandomForest(train.data, dims, train.labels, null, { trees: 40, seed: 2 });
  const p = forestProbabilities(forest, held.data);
  let correct = 0;
  for (let i = 0; i < held.labels.length; i++) if ((p[i] > 0.5 ? 1 : 0) === held.labels[i]) correct++;
  assert.ok(correct / held.labels.length > 0.9, `accuracy ${correct / held.labels.length}`);
  // A single stump-sized forest cannot: the test can fail.
  const stumps = fitRandomForest(train.data, dims, train.labels, null, { trees: 40, seed: 2, maxDepth: 1 });
  const q = forestProbabilities(stumps, held.data);
  let stumpCorrect = 0;
  for (let i = 0; i < held.labels.length; i++) if ((q[i] > 0.5 ? 1 : 0) === held.labels[i]) stumpCorrect++;
  assert.ok(stumpCorrect < correct);
});

test('class weights move the balance: a rare class weighted up is predicted where it lives', () => {
  const random = new Random(3);
  const n = 2000;
  const data = new Float32Array(n);
  const labels = new Uint8Array(n);
  // Class 1 is 5% of the points, all above 0.9; class 0 spread over [0, 1].
  for (let i = 0; i < n; i++) {
    labels[i] = i < n * 0.05 ? 1 : 0;
    data[i] = labels[i] ? 0.9 + random.next() * 0.1 : random.next();
  }
  const weights = Float32Array.from(labels, (l) => (l ? 19 : 1));
  const balanced = fitRandomForest(data, 1, labels, weights, { trees: 30, seed: 4 });
  const [low, high] = forestProbabilities(balanced, Float32Array.from([0.3, 0.95]));
  assert.ok(low < 0.05, `low ${low}`);
  assert.ok(high > 0.5, `high ${high}`);
});

test('leaf values are class shares of their training points: a pure split gives 0 and 1', () => {
  const data = Float32Array.from([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
  const labels = Uint8Array.from([0, 0, 0, 1, 1, 1]);
  const forest = fitRandomForest(data, 1, labels, null, { trees: 1, seed: 0, minLeaf: 1 });
  // With one bootstrap tree both classes may not be drawn; then the root is a pure leaf of one class.
  const p = forestProbabilities(forest, data);
  for (let i = 0; i < 6; i++) assert.ok(p[i] === 0 || p[i] === 1);
  const many = fitRandomForest(data, 1, labels, null, { trees: 50, seed: 0, minLeaf: 1 });
  const q = forestProbabilities(many, Float32Array.from([0.0, 1.0]));
  assert.ok(q[0] < 0.2 && q[1] > 0.8, `${q[0]} ${q[1]}`);
});
