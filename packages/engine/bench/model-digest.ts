/**
 * The SHA-256 of a model trained with defaults on what `kensa bench` trains it on (train/good; for RF also half the
 * defects): a change meant to leave models as they
 * were (a memory bound, a faster kernel) is checked by running this before and after it.
 *
 *   node --import tsx packages/engine/bench/model-digest.ts DATASET_DIR ALGORITHM [name=value …]
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { benchSplit, loadMvtecDataset, serializeModel, trainModel } from '../src/index.ts';

const [root, algorithm, ...assignments] = process.argv.slice(2);
if (!root || !algorithm) throw new Error('usage: model-digest.ts DATASET_DIR ALGORITHM [name=value …]');
const params = Object.fromEntries(assignments.map((a) => a.split(/=(.*)/s, 2)));
const dataset = await loadMvtecDataset(root);
const { images } = await benchSplit(dataset, algorithm);
const started = performance.now();
const cpuStarted = process.cpuUsage();
const model = await trainModel(algorithm, images, params);
const digest = createHash('sha256').update(serializeModel(model)).digest('hex');
const cpu = process.cpuUsage(cpuStarted);
// CPU seconds and the load average: on a shared machine the wall time alone says little.
console.log(JSON.stringify({
  dataset: dataset.name, algorithm, params, sha256: digest, train_seconds: (performance.now() - started) / 1000,
  cpu_seconds: (cpu.user + cpu.system) / 1e6, peak_rss_mb: process.resourceUsage().maxRSS / 1024, load_average: loadavg()[0],
}));
