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

const VARIANTS: Record<string, { config?: Partial<PsConfig>; params?: Record<string, unknown> }> = {
  default: {},
  'no-position': { config: { positionWeight: 0 } },
  'position-10': { config: { positionWeight: 10 } },
  'position-30': { config: { positionWeight: 30 } },
  'no-density': { config: { density: false } },
  'half-density': { config: { densityPower: 0.5 } },
  'random-bank': { config: { coreset: 'random' } },
  'robust-norm': { config: { normalise: 'robust' } },
  grey: { config: { colour: false } },
  'levels-3': { config: { levels: 3 } },
  'levels-5': { config: { levels: 5 } },
  'no-smoothing': { config: { smoothing: 0 } },
  'bank-2000': { params: { train_size: 2000 } },
  'bank-8000': { params: { train_size: 8000 } },
  'size-320': { params: { working_size: 320 } },
  'step-2': { params: { min_inspection_step: 2 } },
  'patch-12': { params: { min_inspection_size: [12, 12] } },
  large: { params: { model_type: 1 } },
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
console.log(`| variant | ${datasets.map((d) => `${d.name} image AUROC`).join(' | ')} | ${datasets.map((d) => `${d.name} pixel AUROC`).join(' | ')} | infer ms/image | train s |`);
console.log(`|---|${datasets.map(() => '---|---|').join('')}---|---|`);
for (const name of names) {
  const results: BenchResult[] = [];
  for (const dataset of datasets) {
    results.push(await benchAlgorithm(dataset, `PS:${name}`, { params: { ...variant(name).params, ...extraParams } }));
  }
  const ms = results.map((r) => r.infer_ms_per_image.toFixed(1)).join(' / ');
  const train = results.map((r) => r.train_seconds.toFixed(1)).join(' / ');
  console.log(`| ${name} | ${results.map((r) => f3(r.image_auroc)).join(' | ')} | ${results.map((r) => f3(r.pixel_auroc)).join(' | ')} | ${ms} | ${train} |`);
}

function variant(name: string) {
  return VARIANTS[name];
}
