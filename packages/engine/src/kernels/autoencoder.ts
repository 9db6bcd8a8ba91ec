import { AdamState, createDenseLayer, denseBackward, denseForward, leakyRelu, leakyReluBackward, type DenseLayer } from './dense.ts';
import { Random } from './random.ts';

/**
 * A symmetric dense auto-encoder: inputs → encoding dims… → bottleneck → …mirrored → inputs.
 * Hidden layers (the bottleneck included) use leaky ReLU; the output is linear. Loss: mean squared error
 * per value, ½·mean((y − x)²).
 */
export interface Autoencoder {
  layers: DenseLayer[];
}

export function createAutoencoder(inputs: number, encodingDims: number[], seed: number): Autoencoder {
  const random = new Random(seed);
  const sizes = [inputs, ...encodingDims, ...encodingDims.slice(0, -1).reverse(), inputs];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) layers.push(createDenseLayer(sizes[l], sizes[l + 1], random));
  return { layers };
}

/** Activations of every layer for a batch: [input, hidden…, output]. */
function forwardAll(net: Autoencoder, X: Float32Array, rows: number): Float32Array[] {
  const activations = [X];
  net.layers.forEach((layer, l) => {
    const y = denseForward(layer, activations[l], rows);
    if (l < net.layers.length - 1) leakyRelu(y);
    activations.push(y);
  });
  return activations;
}

export function reconstruct(net: Autoencoder, X: Float32Array, rows: number): Float32Array {
  const activations = forwardAll(net, X, rows);
  return activations[activations.length - 1];
}

export interface Gradients {
  weights: Float32Array[];
  bias: Float32Array[];
}

/** Loss of a batch and its gradient with respect to every weight and bias (averaged over the batch). */
export function lossAndGradients(net: Autoencoder, X: Float32Array, rows: number): { loss: number; gradients: Gradients } {
  const activations = forwardAll(net, X, rows);
  const output = activations[activations.length - 1];
  const count = output.length;
  let loss = 0;
  let delta: Float32Array = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = output[i] - X[i];
    loss += r * r;
    delta[i] = r / count;
  }
  loss = (0.5 * loss) / count;
  const gradients: Gradients = {
    weights: net.layers.map((l) => new Float32Array(l.weights.length)),
    bias: net.layers.map((l) => new Float32Array(l.bias.length)),
  };
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const dX = denseBackward(net.layers[l], activations[l], delta, rows, gradients.weights[l], gradients.bias[l], l > 0);
    if (dX) delta = leakyReluBackward(activations[l], dX);
  }
  return { loss, gradients };
}

export interface AutoencoderTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /**
   * Called after each epoch with the mean training loss; returning false stops training
   * (cancellation, or convergence decided by the caller). May throw to abort.
   */
  onEpoch?: (epoch: number, loss: number) => boolean | void;
}

/** Mini-batch Adam over rows X (n × inputs), shuffled each epoch with a seeded generator. Returns the per-epoch losses. */
export function trainAutoencoder(net: Autoencoder, X: Float32Array, rows: number, options: AutoencoderTraining): number[] {
  const inputs = net.layers[0].inputs;
  const random = new Random(options.seed + 1);
  const optimisers = net.layers.map((l) => ({
    weights: new AdamState(l.weights.length, options.learningRate),
    bias: new AdamState(l.bias.length, options.learningRate),
  }));
  const order = Array.from({ length: rows }, (_, i) => i);
  const batchSize = Math.max(1, Math.min(options.batchSize, rows));
  const batch = new Float32Array(batchSize * inputs);
  const losses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    random.shuffle(order);
    let total = 0, batches = 0;
    for (let start = 0; start < rows; start += batchSize) {
      const size = Math.min(batchSize, rows - start);
      for (let b = 0; b < size; b++) {
        const row = order[start + b];
        batch.set(X.subarray(row * inputs, (row + 1) * inputs), b * inputs);
      }
      const { loss, gradients } = lossAndGradients(net, batch.subarray(0, size * inputs), size);
      net.layers.forEach((layer, l) => {
        optimisers[l].weights.update(layer.weights, gradients.weights[l]);
        optimisers[l].bias.update(layer.bias, gradients.bias[l]);
      });
      total += loss;
      batches++;
    }
    losses.push(total / batches);
    if (options.onEpoch?.(epoch, total / batches) === false) break;
  }
  return losses;
}
