/**
 * Would the engine's own held-out check choose PS's self-matching (`PsConfig.selfMatch`)? On a quick subset, cross-fits PS
 * as training does (the fold models, their held-out OK maps and the synthetic defects drawn into them), once plain and
 * once self-matched, and prints the image AUROC of those synthetic defects against the held-out OK images under global
 * and border calibration (fitted on the same OK maps). A single thread, so that the self-matched PS (not in the registry)
 * can map.
 *
 *   node --import tsx packages/engine/bench/self-match-judge.ts DATASET_DIR [SEED] [--full]
 *
 * `--full`: the whole set instead of the quick subset (60 train images, 80 test).
 */
import { getAlgorithm } from '../src/algorithms/registry.ts';
import type { AlgorithmDefinition, ModelState } from '../src/algorithms/types.ts';
import { createPatchSample, DEFAULT_PS_CONFIG } from '../src/algorithms/ps/index.ts';
import { fitCalibration, largestCalibrated } from '../src/calibration/calibrate.ts';
import { benchSplit, loadMvtecDataset } from '../src/index.ts';
import { DecodedPixelsCache, decodedSamples } from '../src/image/training-images.ts';
import { MapReader, type FloatMap } from '../src/image/raster.ts';
import { auroc } from '../src/metrics/index.ts';
import { num, resolveParams } from '../src/params/schema.ts';
import { crossFit, heldOutMap, type SizedMap } from '../src/training/cross-fit.ts';
import { quickSubset } from './quick-subset.ts';

const args = process.argv.slice(2);
const full = args.includes('--full');
const [root, seedArg] = args.filter((a) => a !== '--full');
if (!root) throw new Error('usage: self-match-judge.ts DATASET_DIR [SEED] [--full]');
const seed = Number(seedArg ?? 0);
const plain = getAlgorithm('PS');
const variant = createPatchSample({ ...DEFAULT_PS_CONFIG, selfMatch: 'on' });
const dataset = full ? await loadMvtecDataset(root) : quickSubset(await loadMvtecDataset(root), 60, 80, seed);
const { values } = resolveParams(plain.parameters, { seed });
const { images } = await benchSplit(dataset, 'PS');
const samples = await decodedSamples(images, num(values, 'working_size'), new DecodedPixelsCache());
const decided = await plain.decide?.(samples, values, { onProgress: () => {} });
const line: string[] = [];
for (const [name, algorithm] of [['plain', plain], ['self', variant]] as const) {
  const fit = await crossFit(algorithm as AlgorithmDefinition<ModelState>, samples, values, { synthetic: true, seed, decided, onProgress: () => {}, threads: 1 });
  const reader = new MapReader();
  const read = (m: SizedMap): FloatMap => { const { width, height, data } = reader.read(heldOutMap(m)); return { width, height, data: Float32Array.from(data) }; };
  const ok = fit.okMaps.map(read), synthetic = fit.syntheticMaps.map(read);
  for (const mode of ['global', 'border'] as const) {
    const cal = mode === 'border' ? fitCalibration(ok, 'border', { borderMedians: true }) : fitCalibration(ok, 'global');
    const scores = [...ok, ...synthetic].map((m) => largestCalibrated(m, cal));
    line.push(`${name}/${mode} ${auroc(scores, [...ok.map(() => false), ...synthetic.map(() => true)]).toFixed(3)}`);
  }
  line.push(`(${ok.length} ok, ${synthetic.length} synthetic)`);
}
console.log(dataset.name.padEnd(14), line.join('  '));
