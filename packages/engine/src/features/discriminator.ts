import type { FloatMap } from '../image/raster.ts';
import type { Random } from '../kernels/random.ts';
import { synthesizeDefects } from './synthetic-defects.ts';
import { normalisedNeighbourhood } from './learned-filters.ts';

/**
 * A small network trained on the good images to tell their neighbourhoods from synthetic defects drawn into them
 * (`synthetic-defects.ts`: pasted turned patches, noise blotches, thin meandering lines), as a feature learner: its
 * output (the logit of "synthetic defect") at every other pixel of one pyramid level becomes one more plane of the
 * filter bank, pooled per patch like the others. The network sees a pixel's `size`² neighbourhood of the lightness,
 * normalised by its own mean and contrast (plus a floor, as the learned filters do), and two numbers that
 * normalisation removes: the neighbourhood's mean relative to the image's median (in units of the image's spread) and
 * the log of its contrast over the floor. One hidden layer of rectified units; Adam on the logistic loss; seeded.
 */
export interface Discriminator {
  [key: string]: number | Float32Array;
  /** Pyramid level whose lightness it sees. */
  level: number;
  /** Side of the square neighbourhood (odd). */
  size: number;
  contrastFloor: number;
  hidden: number;
  /** Per input: subtracted, then multiplied by the scale (the training samples' mean and 1/standard deviation). */
  inputMean: Float32Array;
  inputScale: Float32Array;
  /** hidden × inputs, hidden, hidden, 1. */
  weights1: Float32Array;
  bias1: Float32Array;
  weights2: Float32Array;
  bias2: number;
  /** Accuracy on held-out synthetic samples (a fifth of them, by the seed): how well it learned the task. */
  heldOutAccuracy: number;
}

export interface DiscriminatorOptions {
  size: number;
  hidden: number;
  /** Training samples (half good, half on synthetic defects). */
  samples: number;
  epochs: number;
  learningRate: number;
  /** Synthetic defects drawn into each image's copy. */
  defectsPerImage: number;
}

export const DEFAULT_DISCRIMINATOR: DiscriminatorOptions = { size: 7, hidden: 24, samples: 30000, epochs: 4, learningRate: 0.003, defectsPerImage: 4 };

/** Median and spread (MAD as a standard deviation, floored) of a plane, from a regular sample of its values. */
function planeCentre(plane: FloatMap): { centre: number; spread: number } {
  const step = Math.max(1, Math.floor(plane.data.length / 10000));
  const sample: number[] = [];
  for (let i = 0; i < plane.data.length; i += step) sample.push(plane.data[i]);
  sample.sort((a, b) => a - b);
  const centre = sample[sample.length >> 1];
  const deviations = sample.map((v) => Math.abs(v - centre)).sort((a, b) => a - b);
  return { centre, spread: Math.max(deviations[deviations.length >> 1] * 1.4826, 1e-3) };
}

/** The inputs of the neighbourhood at (cx, cy) (borders clamped) into `out` (size² + 2 values); returns its raw variance. */
function neighbourhoodInputs(plane: FloatMap, cx: number, cy: number, size: number, floor: number, centre: number, spread: number, out: Float64Array): number {
  const dims = size * size;
  const { mean, variance } = normalisedNeighbourhood(plane, cx, cy, size, floor, out);
  out[dims] = (mean - centre) / spread;
  out[dims + 1] = 0.5 * Math.log((variance + floor) / floor);
  return variance;
}

/**
 * Trains the discriminator of one pyramid level on the good planes (the lightness of training images at that level):
 * each plane gets a copy with synthetic defects (other planes as donors of pasted patches); good samples are random
 * pixels of the good planes, defect samples random pixels of the defects' masks.
 */
export function fitDiscriminator(planes: FloatMap[], level: number, options: DiscriminatorOptions, random: Random): Discriminator {
  const { size, hidden } = options;
  const inputs = size * size + 2;
  const usable = planes.filter((p) => p.width >= size && p.height >= size);
  const centres = usable.map(planeCentre);
  // Contrast floor: the median raw variance of random neighbourhoods (at least a tenth of the mean: binary layouts).
  const scratch = new Float64Array(inputs);
  const variances: number[] = [];
  for (let i = 0; i < Math.min(4000, usable.length * 200); i++) {
    const p = random.int(usable.length), plane = usable[p];
    variances.push(neighbourhoodInputs(plane, random.int(plane.width), random.int(plane.height), size, 1, 0, 1, scratch));
  }
  variances.sort((a, b) => a - b);
  const meanVariance = variances.reduce((s, v) => s + v, 0) / Math.max(1, variances.length);
  const contrastFloor = Math.max(variances.length ? variances[variances.length >> 1] : 1, 0.1 * meanVariance, 1e-6);

  const perClass = usable.length ? options.samples >> 1 : 0;
  const n = 2 * perClass;
  const x = new Float64Array(n * inputs);
  const labels = new Uint8Array(n);
  const perPlane = Math.ceil(perClass / Math.max(1, usable.length));
  let row = 0;
  for (let p = 0; p < usable.length && row < n; p++) {
    const plane = usable[p], { centre, spread } = centres[p];
    const donors = usable.length > 1 ? usable.filter((_, q) => q !== p) : [plane];
    const defect = synthesizeDefects(plane, donors, spread, options.defectsPerImage, random);
    const marked: number[] = [];
    for (let i = 0; i < defect.mask.length; i++) if (defect.mask[i]) marked.push(i);
    for (let s = 0; s < perPlane && row < n; s++) {
      neighbourhoodInputs(plane, random.int(plane.width), random.int(plane.height), size, contrastFloor, centre, spread, scratch);
      x.set(scratch, row * inputs);
      labels[row++] = 0;
      if (!marked.length || row >= n) continue;
      const at = marked[random.int(marked.length)];
      neighbourhoodInputs(defect.plane, at % plane.width, Math.floor(at / plane.width), size, contrastFloor, centre, spread, scratch);
      x.set(scratch, row * inputs);
      labels[row++] = 1;
    }
  }
  const count = row;
  const inputMean = new Float32Array(inputs), inputScale = new Float32Array(inputs);
  for (let k = 0; k < inputs; k++) {
    let sum = 0, sumSq = 0;
    for (let i = 0; i < count; i++) {
      const v = x[i * inputs + k];
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / Math.max(1, count);
    inputMean[k] = mean;
    inputScale[k] = 1 / Math.max(1e-6, Math.sqrt(Math.max(0, sumSq / Math.max(1, count) - mean * mean)));
  }
  for (let i = 0; i < count; i++) for (let k = 0; k < inputs; k++) x[i * inputs + k] = (x[i * inputs + k] - inputMean[k]) * inputScale[k];

  const order = random.shuffle(Array.from({ length: count }, (_, i) => i));
  const heldOut = order.slice(0, Math.floor(count / 5)), trainRows = order.slice(heldOut.length);
  const net = trainNetwork(x, labels, trainRows, inputs, hidden, options, random);
  let correct = 0;
  const hiddenScratch = new Float64Array(hidden);
  for (const i of heldOut) if ((forward(net, x, i * inputs, inputs, hidden, hiddenScratch) > 0 ? 1 : 0) === labels[i]) correct++;
  return {
    level, size, contrastFloor, hidden, inputMean, inputScale,
    weights1: Float32Array.from(net.w1), bias1: Float32Array.from(net.b1), weights2: Float32Array.from(net.w2), bias2: net.b2[0],
    heldOutAccuracy: heldOut.length ? correct / heldOut.length : 0,
  };
}

interface Network {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

/** The logit of one row of standardised inputs (`x` from `offset`); `h` receives the hidden activations. */
function forward(net: Network, x: Float64Array, offset: number, inputs: number, hidden: number, h: Float64Array): number {
  let out = net.b2[0];
  for (let j = 0; j < hidden; j++) {
    let sum = net.b1[j];
    const w = j * inputs;
    for (let k = 0; k < inputs; k++) sum += net.w1[w + k] * x[offset + k];
    const a = sum > 0 ? sum : 0;
    h[j] = a;
    out += net.w2[j] * a;
  }
  return out;
}

/** Minibatch Adam on the logistic loss, He-initialised from the seed. */
function trainNetwork(x: Float64Array, labels: Uint8Array, rows: number[], inputs: number, hidden: number, options: DiscriminatorOptions, random: Random): Network {
  const net: Network = {
    w1: Float64Array.from({ length: hidden * inputs }, () => random.normal() * Math.sqrt(2 / inputs)),
    b1: new Float64Array(hidden),
    w2: Float64Array.from({ length: hidden }, () => random.normal() * Math.sqrt(1 / hidden)),
    b2: new Float64Array(1),
  };
  const params = [net.w1, net.b1, net.w2, net.b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const m = params.map((p) => new Float64Array(p.length)), v = params.map((p) => new Float64Array(p.length));
  const [gw1, gb1, gw2, gb2] = grads;
  const h = new Float64Array(hidden);
  const batch = 64, beta1 = 0.9, beta2 = 0.999;
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    random.shuffle(rows);
    for (let start = 0; start < rows.length; start += batch) {
      const end = Math.min(rows.length, start + batch);
      for (const g of grads) g.fill(0);
      for (let r = start; r < end; r++) {
        const i = rows[r], offset = i * inputs;
        const logit = forward(net, x, offset, inputs, hidden, h);
        // d(loss)/d(logit) of the logistic loss: sigmoid(logit) − label.
        const delta = 1 / (1 + Math.exp(-logit)) - labels[i];
        gb2[0] += delta;
        for (let j = 0; j < hidden; j++) {
          if (h[j] <= 0) continue;
          gw2[j] += delta * h[j];
          const back = delta * net.w2[j];
          gb1[j] += back;
          const w = j * inputs;
          for (let k = 0; k < inputs; k++) gw1[w + k] += back * x[offset + k];
        }
      }
      step++;
      const size = end - start;
      const rate = options.learningRate * Math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step);
      for (let p = 0; p < params.length; p++) {
        const param = params[p], grad = grads[p], mp = m[p], vp = v[p];
        for (let k = 0; k < param.length; k++) {
          const g = grad[k] / size;
          mp[k] = beta1 * mp[k] + (1 - beta1) * g;
          vp[k] = beta2 * vp[k] + (1 - beta2) * g * g;
          param[k] -= (rate * mp[k]) / (Math.sqrt(vp[k]) + 1e-8);
        }
      }
    }
  }
  return net;
}

/** Float64 copies of a discriminator's weights (read in the inner loops), made once per discriminator. */
const wideNetworks = new WeakMap<Discriminator, Network>();
function widened(d: Discriminator): Network {
  let net = wideNetworks.get(d);
  if (!net) {
    net = { w1: Float64Array.from(d.weights1), b1: Float64Array.from(d.bias1), w2: Float64Array.from(d.weights2), b2: Float64Array.of(d.bias2) };
    wideNetworks.set(d, net);
  }
  return net;
}

/** Logits are kept within ±this: one strange pixel must not outweigh a patch's whole pooled plane. */
const LOGIT_LIMIT = 30;

/**
 * The discriminator's plane of one lightness plane (its level): the logit at every other pixel of every other row, so
 * the plane is half the level's width and height (rounded up), pooled as a level of twice the scale.
 */
export function discriminatorPlane(plane: FloatMap, d: Discriminator): { width: number; height: number; planes: Float32Array[] } {
  const { size, contrastFloor, hidden, inputMean, inputScale } = d;
  const net = widened(d);
  const inputs = size * size + 2;
  const width = (plane.width + 1) >> 1, height = (plane.height + 1) >> 1;
  const out = new Float32Array(width * height);
  const { centre, spread } = planeCentre(plane);
  const x = new Float64Array(inputs), h = new Float64Array(hidden);
  const mean = Float64Array.from(inputMean), scale = Float64Array.from(inputScale);
  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      neighbourhoodInputs(plane, 2 * gx, 2 * gy, size, contrastFloor, centre, spread, x);
      for (let k = 0; k < inputs; k++) x[k] = (x[k] - mean[k]) * scale[k];
      const logit = forward(net, x, 0, inputs, hidden, h);
      out[gy * width + gx] = Math.max(-LOGIT_LIMIT, Math.min(LOGIT_LIMIT, logit));
    }
  }
  return { width, height, planes: [out] };
}
