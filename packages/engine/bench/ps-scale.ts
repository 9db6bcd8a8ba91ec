/**
 * Training at scale: N training images made from a dataset's train/good images (copies turned by a multiple of 90°,
 * shifted cyclically and re-exposed, each made and encoded when training reads it: see src/benchmark/copies.ts),
 * trained by the engine's `trainModel` as the server trains them. Prints the wall and CPU seconds, the peak RSS, the
 * load average and what the algorithm decided.
 *
 *   node --import tsx packages/engine/bench/ps-scale.ts DATASET_DIR [--images 5000] [--bases 200] [--algorithm PS] [name=value …]
 */
import { loadavg } from 'node:os';
import { copiedTrainingImages, loadOriginals, loadMvtecDataset, resolveParams, getAlgorithm, trainModel } from '../src/index.ts';

const args = process.argv.slice(2);
let images = 5000, bases = 200, algorithm = 'PS';
const roots: string[] = [];
const overrides: Record<string, string> = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--images') images = Number(args[++i]);
  else if (args[i] === '--bases') bases = Number(args[++i]);
  else if (args[i] === '--algorithm') algorithm = args[++i];
  else if (args[i].includes('=')) {
    const [name, value] = args[i].split(/=(.*)/s, 2);
    overrides[name] = value;
  } else roots.push(args[i]);
}
const dataset = await loadMvtecDataset(roots[0]);
const workingSize = Number(resolveParams(getAlgorithm(algorithm).parameters, overrides).values.working_size);
const originals = await loadOriginals(dataset.train.slice(0, bases).map((image) => image.path), workingSize);
const started = performance.now();
const cpuStarted = process.cpuUsage();
const model = await trainModel(algorithm, copiedTrainingImages(originals, images), overrides);
const cpu = process.cpuUsage(cpuStarted);
console.log(JSON.stringify({
  dataset: dataset.name, algorithm, params: overrides, images, bases: originals.length,
  train_seconds: +((performance.now() - started) / 1000).toFixed(1), cpu_seconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), load_average: loadavg()[0], choices: model.autoTuned,
}));
