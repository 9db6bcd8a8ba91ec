/**
 * PS training at scale: N training images made from a dataset's train/good images (each a copy turned by a multiple of
 * 90°, shifted cyclically and re-exposed, made when PS reads it, so that the images themselves are never all in memory,
 * as a streaming source would give them), trained by PS directly. Prints the seconds, the peak RSS, and what PS
 * decided.
 *
 *   node --import tsx packages/engine/bench/ps-scale.ts DATASET_DIR [--images 5000] [--bases 200]
 *
 * The engine's trainModel is not used: it decodes every image up front (its own memory grows with the image count).
 */
import { readFile } from 'node:fs/promises';
import { decodeForModel, loadMvtecDataset, resolveParams, type Raster, type TrainingSample } from '../src/index.ts';
import { patchSample } from '../src/algorithms/ps/index.ts';
import { Random } from '../src/kernels/random.ts';

const args = process.argv.slice(2);
let images = 5000, bases = 200;
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--images') images = Number(args[++i]);
  else if (args[i] === '--bases') bases = Number(args[++i]);
  else roots.push(args[i]);
}
const dataset = await loadMvtecDataset(roots[0]);
const params = resolveParams(patchSample.parameters, {}).values;
const baseRasters: Raster[] = [];
for (const image of dataset.train.slice(0, bases)) baseRasters.push((await decodeForModel(await readFile(image.path), Number(params.working_size))).raster);

/** Copy k: base k mod bases, turned by (k / bases) mod 4 quarter turns, shifted and re-exposed by k's own seed. */
function copy(k: number): Raster {
  const base = baseRasters[k % baseRasters.length];
  const random = new Random(k);
  const turns = Math.floor(k / baseRasters.length) % 4, gain = 0.8 + 0.4 * random.next();
  const sx = random.int(base.width), sy = random.int(base.height);
  const { channels } = base;
  const width = turns % 2 ? base.height : base.width, height = turns % 2 ? base.width : base.height;
  const data = new Float32Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let bx = x, by = y;
    if (turns === 1) { bx = y; by = base.height - 1 - x; } else if (turns === 2) { bx = base.width - 1 - x; by = base.height - 1 - y; } else if (turns === 3) { bx = base.width - 1 - y; by = x; }
    const source = (((by + sy) % base.height) * base.width + ((bx + sx) % base.width)) * channels;
    for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = Math.min(1, base.data[source + c] * gain);
  }
  return { width, height, channels, data };
}

const samples: TrainingSample[] = Array.from({ length: images }, (_, k) => ({ get raster() { return copy(k); }, good: true, boxes: [] }));
const started = performance.now();
const state = await patchSample.train(samples, params, { onProgress: () => {} });
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({
  dataset: dataset.name, images, bases: baseRasters.length, train_seconds: +seconds.toFixed(1),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), choices: patchSample.choices!(state),
}));
