/**
 * Where PS's inference time goes: trains PS once on a dataset's train/good (default parameters, the model kept
 * in a cache file so that later runs compare the same model), then times each stage of `predictRaster` over
 * every test image, several rounds, and prints the per-image milliseconds of each stage next to decode.
 *
 *   node --import tsx packages/engine/bench/ps-profile.ts [--rounds N] [--cache DIR] [--retrain] [--param name=value …] DATASET_DIR …
 *
 * The last line per dataset is a checksum of the image scores: a speed-up that must not change results
 * must not change it either.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeForModel, deserializeModel, getAlgorithm, loadMvtecDataset, modelWorkingSize, predictRaster, serializeModel, trainModel,
  type Raster,
} from '../src/index.ts';
import { applyCalibration } from '../src/calibration/calibrate.ts';
import { resizeMap } from '../src/image/raster.ts';
import { detect } from '../src/postprocess/detect.ts';
import { detectionSettings } from '../src/engine.ts';
import type { PsState } from '../src/algorithms/ps/index.ts';
import { profilePsStages } from '../src/algorithms/ps/index.ts';

const args = process.argv.slice(2);
let rounds = 3, cache = '/tmp/kensa-ps-profile', retrain = false;
const params: Record<string, unknown> = {};
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--cache') cache = args[++i];
  else if (args[i] === '--retrain') retrain = true;
  else if (args[i] === '--param') {
    const [name, ...rest] = args[++i].split('=');
    params[name] = rest.join('=');
  }
  else roots.push(args[i]);
}
if (roots.length === 0) roots.push('../shared/datasets/cookies', '../shared/datasets/aliens');
await mkdir(cache, { recursive: true });

for (const root of roots) {
  const dataset = await loadMvtecDataset(root);
  const suffix = Object.entries(params).map(([k, v]) => `-${k}-${v}`).join('');
  const file = join(cache, `${dataset.name}${suffix}.kensa`);
  let model;
  if (!retrain && existsSync(file)) {
    try { model = deserializeModel(await readFile(file)); } catch { model = undefined; }
  }
  if (!model) {
    const images = await Promise.all(dataset.train.map(async (t) => ({ bytes: await readFile(t.path), good: true as const })));
    model = await trainModel('PS', images, params);
    await writeFile(file, serializeModel(model));
  }
  const workingSize = modelWorkingSize(model);
  const decoded: { raster: Raster; info: { width: number; height: number } }[] = [];
  let decodeMs = 0;
  for (const image of dataset.test) {
    const bytes = await readFile(image.path);
    const t0 = performance.now();
    decoded.push(await decodeForModel(bytes, workingSize));
    decodeMs += performance.now() - t0;
  }
  const algorithm = getAlgorithm('PS');
  const stages: Record<string, number> = {};
  let wholeMs = Infinity;
  let checksum = 0;
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    checksum = 0;
    for (const d of decoded) checksum += predictRaster(model, d.raster, d.info).score;
    wholeMs = Math.min(wholeMs, (performance.now() - t0) / decoded.length);
    const roundStages: Record<string, number> = {};
    const add = (name: string, ms: number) => { roundStages[name] = (roundStages[name] ?? 0) + ms / decoded.length; };
    for (const d of decoded) {
      const { map, times } = profilePsStages(model.state as PsState, d.raster, model.params);
      for (const [name, ms] of Object.entries(times)) add(name, ms);
      let t = performance.now();
      const full = resizeMap(map, d.raster.width, d.raster.height);
      add('engine: resize to raster', performance.now() - t);
      t = performance.now();
      const calibrated = applyCalibration(full, model.calibration);
      add('engine: calibration', performance.now() - t);
      t = performance.now();
      detect(calibrated, d.info, detectionSettings(model, {}));
      add('engine: detect', performance.now() - t);
    }
    for (const [name, ms] of Object.entries(roundStages)) stages[name] = Math.min(stages[name] ?? Infinity, ms);
  }
  void algorithm;
  console.log(`${dataset.name}: ${decoded.length} images ${decoded[0].raster.width}×${decoded[0].raster.height}, decode ${(decodeMs / decoded.length).toFixed(2)} ms/image`);
  console.log(`  predictRaster (best of ${rounds}): ${wholeMs.toFixed(2)} ms/image = ${(wholeMs / (decodeMs / decoded.length)).toFixed(2)}× decode`);
  for (const [name, ms] of Object.entries(stages)) console.log(`  ${name.padEnd(32)} ${ms.toFixed(2)} ms`);
  console.log(`  score checksum ${checksum.toFixed(6)}`);
}
