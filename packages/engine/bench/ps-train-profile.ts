/**
 * Where PS's training time goes: trains PS (defaults) on the first N training images of a set through `trainModel`,
 * with the processor seconds of each phase (decide, each cross-fit fold's train, its held-out maps, the final train,
 * the in-sample threshold maps) and, inside each train, of each of its stages (by its progress reports).
 *
 *   node --import tsx packages/engine/bench/ps-train-profile.ts DATASET_DIR [N] [name=value …]
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { getAlgorithm } from '../src/algorithms/registry.ts';
import { benchSplit, loadMvtecDataset, serializeModel, trainModel } from '../src/index.ts';
import type { TrainContext } from '../src/algorithms/types.ts';

const [root, countArg, ...assignments] = process.argv.slice(2);
if (!root) throw new Error('usage: ps-train-profile.ts DATASET_DIR [N] [name=value …]');
const params = Object.fromEntries(assignments.map((a) => a.split(/=(.*)/s, 2)));
const dataset = await loadMvtecDataset(root);
const count = Number(countArg ?? dataset.train.length);
const { images } = await benchSplit({ ...dataset, train: dataset.train.slice(0, count) }, 'PS');

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const totals = new Map<string, number>();
const add = (key: string, seconds: number) => totals.set(key, (totals.get(key) ?? 0) + seconds);
// The largest resident set of each phase (MB), sampled every 20 ms by a worker thread (the training blocks the main
// one) into the slot of the phase the main thread last named.
const phaseNames: string[] = [];
const shared = new Int32Array(new SharedArrayBuffer(4 * 1025));
const sampler = new Worker(`const { workerData: slots } = require('node:worker_threads');
  setInterval(() => { const i = 1 + Atomics.load(slots, 0); Atomics.store(slots, i, Math.max(Atomics.load(slots, i), process.memoryUsage.rss() >> 20)); }, 20);`,
{ eval: true, workerData: shared });
sampler.unref();
const noteRss = (key: string) => {
  let index = phaseNames.indexOf(key);
  if (index < 0) index = phaseNames.push(key) - 1;
  Atomics.store(shared, 0, index);
};
const ps = getAlgorithm('PS') as unknown as Record<string, (...args: unknown[]) => unknown>;
let phase = 'decoding';
let trainCalls = 0;
for (const name of ['decide', 'train'] as const) {
  const original = ps[name];
  ps[name] = async (...args: unknown[]) => {
    const [samples, p, context] = args as [unknown, unknown, TrainContext];
    const label = name === 'train' ? `train#${++trainCalls}` : name;
    let stage = 'start', at = cpu();
    const started = at;
    noteRss(`${label}/start`);
    const onProgress: TrainContext['onProgress'] = (f, step, values) => {
      if (step && step !== stage) { add(`${label}/${stage}`, cpu() - at); stage = step; at = cpu(); noteRss(`${label}/${stage}`); }
      context.onProgress(f, step, values);
    };
    const result = await original(samples, p, { ...context, onProgress });
    add(`${label}/${stage}`, cpu() - at);
    add(label, cpu() - started);
    return result;
  };
}
for (const name of ['compactAnomalyMap', 'anomalyMap'] as const) {
  const original = ps[name];
  ps[name] = (...args: unknown[]) => {
    const at = cpu();
    noteRss(`${name} after train#${trainCalls}`);
    const result = original(...args);
    add(`${name} after train#${trainCalls}`, cpu() - at);
    add(`${name} count after train#${trainCalls}`, 1 / 1e9);
    return result;
  };
}
let phaseAt = cpu();
const started = cpu();
// On the calling thread (threads: 1): the stages of every train are timed here.
const model = await trainModel('PS', images, params, {
  threads: 1,
  onProgress: (_f, step) => {
    const coarse = step === 'calibrating' || step === 'training' || step === 'decoding' || step === 'done' ? step : phase;
    if (coarse !== phase) { add(`engine:${phase}`, cpu() - phaseAt); phase = coarse; phaseAt = cpu(); noteRss(`engine:${phase}`); }
  },
});
add(`engine:${phase}`, cpu() - phaseAt);
const total = cpu() - started;
for (const [key, seconds] of totals) {
  console.log(key.includes('count') ? `${key.padEnd(44)} ${Math.round(seconds * 1e9)}` : `${key.padEnd(44)} ${seconds.toFixed(2)} s`);
}
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(`resident set (MB, largest sampled, by phase entered): ${phaseNames.map((key, i) => `${key} ${shared[i + 1]}`).join(' | ')}`);
await sampler.terminate();
const digest = createHash('sha256').update(serializeModel(model)).digest('hex');
console.log(JSON.stringify({ images: images.length, cpu_seconds: total, peak_rss_mb: process.resourceUsage().maxRSS / 1024, sha256: digest,
  threshold: model.threshold, calibration: model.calibration.mode, evaluation_auroc: model.evaluation.auroc, auto: model.autoTuned }));

// Inference stages of the trained model on the first 30 test images (ms per image, wall; best of two rounds), and decode.
const { profilePsStages } = await import('../src/algorithms/ps/index.ts');
const { decodeForModel, modelWorkingSize } = await import('../src/index.ts');
const { readFile } = await import('node:fs/promises');
const tests = dataset.test.slice(0, 30);
let decodeMs = 0;
const rasters = [];
for (const t of tests) {
  const bytes = await readFile(t.path);
  const t0 = performance.now();
  rasters.push((await decodeForModel(bytes, modelWorkingSize(model))).raster);
  decodeMs += performance.now() - t0;
}
let best: Record<string, number> | null = null;
let checksum = 0;
for (let round = 0; round < 2; round++) {
  const sums: Record<string, number> = {};
  checksum = 0;
  for (const raster of rasters) {
    const { map, times } = profilePsStages(model.state as never, raster, model.params);
    for (const [k, v] of Object.entries(times)) sums[k] = (sums[k] ?? 0) + v;
    let m = 0; for (const v of map.data) if (v > m) m = v;
    checksum += m;
  }
  if (!best || Object.values(sums).reduce((a, b) => a + b) < Object.values(best).reduce((a, b) => a + b)) best = sums;
}
console.log(Object.entries(best!).map(([k, v]) => `${k} ${(v / rasters.length).toFixed(1)}`).join(' | '), `| decode ${(decodeMs / rasters.length).toFixed(1)} ms | checksum ${checksum}`);
