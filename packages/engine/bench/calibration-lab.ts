/**
 * Which calibration a set's test images favour, and which one calibration 'auto' picks: trains PS as the engine does
 * (decide, the cross-fit's held-out good maps, the final model), keeps those maps and the final model's raw test maps,
 * then fits each calibration on the held-out maps alone and scores the test images under it (image AUROC, and pixel
 * AUROC where the set has masks). A change to how calibrations are fitted is judged here in seconds per set instead of a
 * training per set: the maps are kept in /tmp (`--fresh` remakes them; they depend on PS, not on the calibration).
 *
 *   node --import tsx packages/engine/bench/calibration-lab.ts [--train N --test M --seed S] [--fresh] DATASET_DIR …
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAlgorithm } from '../src/algorithms/registry.ts';
import { fitCalibration, largestCalibrated, applyCalibration, type CalibrationMode, type Calibration } from '../src/calibration/calibrate.ts';
import { chooseCalibration } from '../src/calibration/choose.ts';
import { benchSplit, decodeForModel, decidedWorkingSide, loadMask, loadMvtecDataset, type MvtecDataset } from '../src/index.ts';
import { DecodedPixelsCache, decodedSamples } from '../src/image/training-images.ts';
import { MapReader, resizeMap, type FloatMap } from '../src/image/raster.ts';
import { auroc, pixelAuroc } from '../src/metrics/index.ts';
import { num, resolveParams } from '../src/params/schema.ts';
import { crossFit, heldOutMap } from '../src/training/cross-fit.ts';
import { quickSubset } from './quick-subset.ts';

const args = process.argv.slice(2);
let trainCount = 0, testCount = 0, seed = 0, fresh = false;
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--train') trainCount = Number(args[++i]);
  else if (args[i] === '--test') testCount = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else if (args[i] === '--fresh') fresh = true;
  else roots.push(args[i]);
}
if (roots.length === 0) throw new Error('usage: calibration-lab.ts [--train N --test M --seed S] [--fresh] DATASET_DIR …');

interface LabMaps { ok: FloatMap[]; test: FloatMap[]; masks: (FloatMap | null)[]; defects: (string | null)[] }

function pack(maps: FloatMap[]): Buffer {
  return Buffer.concat(maps.flatMap((m) => [Buffer.from(Int32Array.of(m.width, m.height).buffer), Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)]));
}
function unpack(bytes: Buffer): FloatMap[] {
  const maps: FloatMap[] = [];
  for (let at = 0; at < bytes.length;) {
    const width = bytes.readInt32LE(at), height = bytes.readInt32LE(at + 4);
    at += 8;
    maps.push({ width, height, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + width * height * 4)) });
    at += width * height * 4;
  }
  return maps;
}

/** PS trained as `trainModel` trains it on OK images (synthetic defects for the folds, the same seed). */
async function makeMaps(dataset: MvtecDataset): Promise<LabMaps> {
  const algorithm = getAlgorithm('PS');
  const { values } = resolveParams(algorithm.parameters, { seed });
  const { images } = await benchSplit(dataset, 'PS');
  const cache = new DecodedPixelsCache();
  let samples = await decodedSamples(images, num(values, 'working_size'), cache);
  const decided = await algorithm.decide?.(samples, values, { onProgress: () => {} });
  // The side PS settled for its images (its resolution), as the engine reads them for the folds and the final model.
  const side = decidedWorkingSide(decided) ?? num(values, 'working_size');
  if (side !== num(values, 'working_size')) {
    cache.release();
    samples = await decodedSamples(images, side, new DecodedPixelsCache());
  }
  const fit = await crossFit(algorithm, samples, values, { synthetic: true, seed, decided, onProgress: () => {} });
  const reader = new MapReader();
  const ok = fit.okMaps.map((m) => { const { width, height, data } = reader.read(heldOutMap(m)); return { width, height, data: Float32Array.from(data) }; });
  const state = await algorithm.train(samples, values, { onProgress: () => {}, decided });
  const test: FloatMap[] = [], masks: (FloatMap | null)[] = [];
  for (const image of dataset.test) {
    const { raster } = await decodeForModel(await readFile(image.path), side);
    // At the raster's size, as the engine calibrates it (PS maps at half size where it describes patches there).
    const map = resizeMap(algorithm.anomalyMap(state, raster, values), raster.width, raster.height);
    test.push(map);
    masks.push(image.maskPath ? await loadMask(image.maskPath, map.width, map.height) : null);
  }
  return { ok, test, masks, defects: dataset.test.map((t) => t.defect) };
}

async function labMaps(dataset: MvtecDataset): Promise<LabMaps> {
  const dir = join('/tmp', 'kensa-calibration-lab', `${dataset.name}-${trainCount}-${testCount}-${seed}`);
  if (!fresh) {
    try {
      const [ok, test, meta] = await Promise.all(['ok.bin', 'test.bin', 'meta.json'].map((f) => readFile(join(dir, f))));
      const { defects, maskIndex } = JSON.parse(meta.toString()) as { defects: (string | null)[]; maskIndex: number[] };
      const maskMaps = unpack(await readFile(join(dir, 'masks.bin')));
      return { ok: unpack(ok), test: unpack(test), masks: maskIndex.map((k) => (k < 0 ? null : maskMaps[k])), defects };
    } catch { /* not kept yet */ }
  }
  const maps = await makeMaps(dataset);
  await mkdir(dir, { recursive: true });
  const kept = maps.masks.filter((m): m is FloatMap => m !== null);
  let next = 0;
  await writeFile(join(dir, 'ok.bin'), pack(maps.ok));
  await writeFile(join(dir, 'test.bin'), pack(maps.test));
  await writeFile(join(dir, 'masks.bin'), pack(kept));
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ defects: maps.defects, maskIndex: maps.masks.map((m) => (m ? next++ : -1)) }));
  return maps;
}

const calibrations: [string, (ok: FloatMap[]) => Calibration][] = [
  ['global', (ok) => fitCalibration(ok, 'global')],
  ['border', (ok) => fitCalibration(ok, 'border', { borderMedians: true })],
  ['border (level)', (ok) => fitCalibration(ok, 'border')],
  ['location', (ok) => fitCalibration(ok, 'location')],
];
const f3 = (v: number) => v.toFixed(3);
console.log(`PS held-out maps, ${trainCount ? `train ${trainCount} test ${testCount} seed ${seed}` : `full sets, seed ${seed}`}: test image AUROC (pixel AUROC) by calibration`);
for (const root of roots) {
  const full = await loadMvtecDataset(root);
  const dataset = trainCount ? quickSubset(full, trainCount, testCount, seed) : full;
  const { ok, test, masks, defects } = await labMaps(dataset);
  const defective = defects.map((d) => d !== null);
  // Pixel AUROC on good images and on defects with a mask, every fifth pixel (the maps are patch-sized blocks).
  const pixelImages = test.map((_, i) => i).filter((i) => defects[i] === null || masks[i]);
  const thin = (m: FloatMap): FloatMap => ({ width: Math.ceil(m.data.length / 5), height: 1, data: m.data.filter((_, i) => i % 5 === 0) });
  const hasMasks = masks.some((m) => m);
  const columns = calibrations.map(([name, fit]) => {
    const calibration = fit(ok);
    const image = auroc(test.map((m) => largestCalibrated(m, calibration)), defective);
    const pixel = hasMasks ? pixelAuroc(pixelImages.map((i) => thin(applyCalibration(test[i], calibration))),
      pixelImages.map((i) => thin(masks[i] ?? { width: test[i].width, height: test[i].height, data: new Float32Array(test[i].data.length) }))) : null;
    return `${name} ${f3(image)}${pixel === null ? '' : ` (${f3(pixel)})`}`;
  });
  const candidates = getAlgorithm('PS').calibrationCandidates as CalibrationMode[];
  const choice = chooseCalibration(ok, candidates, { borderMedians: true });
  console.log(`${dataset.name.padEnd(14)} held-out ${ok.length}  ${columns.join('  ')}  | auto: ${choice.mode} ${JSON.stringify(Object.fromEntries(Object.entries(choice.scores).map(([k, v]) => [k, Number(v.toFixed(3))])))}`);
}
