import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAutoencoder, lossAndGradients, reconstruct, trainAutoencoder } from '../src/kernels/autoencoder.ts';
import { createDenseLayer, denseForward } from '../src/kernels/dense.ts';
import { Random } from '../src/kernels/random.ts';

test('dense forward is W·x + b for every row', () => {
  const random = new Random(1);
  const layer = createDenseLayer(7, 3, random);
  layer.bias.set([0.5, -1, 2]);
  const rows = 4;
  const X = Float32Array.from({ length: rows * 7 }, () => random.normal());
  const Y = denseForward(layer, X, rows);
  for (let s = 0; s < rows; s++) for (let o = 0; o < 3; o++) {
    let v = layer.bias[o];
    for (let i = 0; i < 7; i++) v += layer.weights[o * 7 + i] * X[s * 7 + i];
    assert.ok(Math.abs(Y[s * 3 + o] - v) < 1e-5);
  }
});

test('auto-encoder gradients match central finite differences on a tiny net', () => {
  const random = new Random(2);
  const inputs = 5, rows = 6;
  const net = createAutoencoder(inputs, [4, 3, 2], 3);
  for (const layer of net.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = random.normal() * 0.1;
  const X = Float32Array.from({ length: rows * inputs }, () => random.normal());
  const { gradients } = lossAndGradients(net, X, rows);
  const step = 3e-3;
  let checked = 0;
  net.layers.forEach((layer, l) => {
    for (const [params, grads] of [[layer.weights, gradients.weights[l]], [layer.bias, gradients.bias[l]]] as const) {
      for (let i = 0; i < params.length; i++) {
        const original = params[i];
        params[i] = original + step;
        const high = params[i];
        const up = lossAndGradients(net, X, rows).loss;
        params[i] = original - step;
        const low = params[i];
        const down = lossAndGradients(net, X, rows).loss;
        params[i] = original;
        // The step actually taken: the parameters are float32.
        const numeric = (up - down) / (high - low);
        const tolerance = 1e-5 + 1e-2 * Math.max(Math.abs(numeric), Math.abs(grads[i]));
        assert.ok(Math.abs(numeric - grads[i]) < tolerance, `layer ${l} parameter ${i}: analytic ${grads[i]} vs numeric ${numeric}`);
        checked++;
      }
    }
  });
  assert.ok(checked > 80);
});

test('training lowers the reconstruction loss of data on a low-dimensional manifold', () => {
  const random = new Random(4);
  const inputs = 12, rows = 400;
  const X = new Float32Array(rows * inputs);
  for (let r = 0; r < rows; r++) {
    const a = random.normal(), b = random.normal();
    for (let t = 0; t < inputs; t++) X[r * inputs + t] = a * Math.sin(t * 0.5) + b * Math.cos(t * 0.3) + random.normal() * 0.05;
  }
  const net = createAutoencoder(inputs, [16, 8, 3], 5);
  const before = lossAndGradients(net, X, rows).loss;
  const losses = trainAutoencoder(net, X, rows, { epochs: 60, batchSize: 32, learningRate: 3e-3, seed: 6 });
  const after = lossAndGradients(net, X, rows).loss;
  assert.equal(losses.length, 60);
  assert.ok(after < before * 0.1, `loss ${before} → ${after}`);
  assert.ok(losses.at(-1)! < losses[0], 'epoch losses fall');
  // A row off the manifold is rebuilt worse than the rows it learned.
  const odd = Float32Array.from({ length: inputs }, (_, t) => (t % 2 ? 2 : -2));
  const y = reconstruct(net, odd, 1);
  let oddError = 0;
  for (let t = 0; t < inputs; t++) oddError += 0.5 * (y[t] - odd[t]) ** 2 / inputs;
  assert.ok(oddError > 5 * after, `off-manifold ${oddError} vs on-manifold ${after}`);
});

test('training is deterministic for a seed and stops when asked', () => {
  const random = new Random(7);
  const X = Float32Array.from({ length: 50 * 6 }, () => random.next());
  const a = createAutoencoder(6, [5, 4, 2], 8), b = createAutoencoder(6, [5, 4, 2], 8);
  trainAutoencoder(a, X, 50, { epochs: 3, batchSize: 16, learningRate: 1e-3, seed: 9 });
  const losses = trainAutoencoder(b, X, 50, { epochs: 10, batchSize: 16, learningRate: 1e-3, seed: 9, onEpoch: (epoch) => epoch < 2 });
  assert.equal(losses.length, 3);
  assert.deepEqual(a.layers[0].weights, b.layers[0].weights);
});
