/**
 * The PS design study: each variant of PS (one change from the default) trained and scored by `kensa bench`'s
 * own routine on every dataset given, one table row per variant.
 *
 *   node --import tsx packages/engine/bench/ps-variants.ts [--only name,name] [--param name=value …] DATASET_DIR …
 *
 * Variants are registered under ids `PS:<name>` for the run only; the product registers the default alone.
 */
import { ALGORITHMS, benchAlgorithm, loadMvtecDataset, type AlgorithmDefinition, type BenchResult, type ModelState } from '../src/index.ts';
import { createPatchSample, DEFAULT_PS_CONFIG, type PsConfig } from '../src/algorithms/ps/index.ts';

const VARIANTS: Record<string, { config?: Partial<PsConfig>; params?: Record<string, unknown>; calibration?: 'global' | 'location' }> = {
  default: {},
  aligned: { params: { placement: 'aligned' } },
  free: { params: { placement: 'free' } },
  'first-design': { config: { smoothing: 1 }, params: { placement: 'aligned' }, calibration: 'location' },
  'levels-0-4': { config: { levels: 5, firstLevel: 0 } },
  'levels-1-4': { config: { levels: 5, firstLevel: 1 } },
  'no-density': { config: { density: false } },
  'random-bank': { config: { coreset: 'random' } },
  'bank-8000': { params: { train_size: 8000 } },
  grey: { config: { colour: false } },
  'robust-norm': { config: { normalise: 'robust' } },
  large: { params: { model_type: 1 } },
  'location-calibration': { calibration: 'location' },
  'smoothing-3': { config: { smoothing: 3 } },
  'clamped-borders': { config: { smoothingBorders: 'clamp' } },
  'smoothing-1': { config: { smoothing: 1 } },
  'density-k-6': { config: { densityK: 6 } },
  'num-features-16': { params: { num_features: 16 } },
};

const args = process.argv.slice(2);
let only: string[] | null = null;
const extraParams: Record<string, unknown> = {};
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only') only = args[++i].split(',');
  else if (args[i] === '--param') {
    const [name, ...rest] = args[++i].split('=');
    extraParams[name] = rest.join('=');
  } else roots.push(args[i]);
}
if (roots.length === 0) roots.push('../shared/datasets/cookies', '../shared/datasets/aliens');

const names = only ?? Object.keys(VARIANTS);
for (const name of names) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  const definition = createPatchSample({ ...DEFAULT_PS_CONFIG, ...variant.config }, `PS:${name}`);
  ALGORITHMS.push(definition as unknown as AlgorithmDefinition<ModelState>);
}

const datasets = await Promise.all(roots.map(loadMvtecDataset));
const f3 = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(3));
console.log(`| variant | ${datasets.map((d) => `${d.name} image AUROC`).join(' | ')} | ${datasets.map((d) => `${d.name} pixel AUROC`).join(' | ')} | F1 | infer ms/image | train s |`);
console.log(`|---|${datasets.map(() => '---|---|').join('')}---|---|---|`);
for (const name of names) {
  const results: BenchResult[] = [];
  for (const dataset of datasets) {
    results.push(await benchAlgorithm(dataset, `PS:${name}`, { params: { ...variant(name).params, ...extraParams }, calibration: variant(name).calibration }));
  }
  const ms = results.map((r) => r.infer_ms_per_image.toFixed(1)).join(' / ');
  const train = results.map((r) => r.train_seconds.toFixed(1)).join(' / ');
  const f1 = results.map((r) => f3(r.f1)).join(' / ');
  console.log(`| ${name} | ${results.map((r) => f3(r.image_auroc)).join(' | ')} | ${results.map((r) => f3(r.pixel_auroc)).join(' | ')} | ${f1} | ${ms} | ${train} |`);
}

function variant(name: string) {
  return VARIANTS[name];
}
