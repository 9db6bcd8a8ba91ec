/**
 * Child process of train-many-images.test.ts: trains a model through `trainModel` on N copies of a dataset's first
 * training images (made and encoded when training reads them: src/benchmark/copies.ts) and prints one JSON line with
 * its peak RSS. A process of its own, so that the peak is this training's alone.
 *
 *   node --import tsx packages/engine/test/train-copies.ts DATASET_DIR IMAGES BASES '{"working_size":128}'
 */
import { copiedTrainingImages, loadMvtecDataset, loadOriginals, trainModel } from '../src/index.ts';

const [root, images, bases, overrides] = process.argv.slice(2);
const params = JSON.parse(overrides) as Record<string, unknown>;
const dataset = await loadMvtecDataset(root);
const originals = await loadOriginals(dataset.train.slice(0, Number(bases)).map((image) => image.path), Number(params.working_size));
const started = performance.now();
const cpu = process.cpuUsage();
const model = await trainModel('PS', copiedTrainingImages(originals, Number(images)), params);
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({
  images: Number(images), ok: model.trainedOn.ok, held_out: model.evaluation.heldOut.length,
  seconds: (performance.now() - started) / 1000, cpu_seconds: (used.user + used.system) / 1e6,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
}));
