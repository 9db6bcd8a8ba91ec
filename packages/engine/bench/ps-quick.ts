/**
 * Quick, seeded PS runs for iterating on the defaults: each dataset is cut to a fixed subset (N training images,
 * M test images with the same share of defects as the full test set, drawn by the seed), then trained and scored
 * by `kensa bench`'s own routine. One line per set, then the mean and the worst set. Full sets confirm.
 *
 *   node --import tsx packages/engine/bench/ps-quick.ts [--train 80] [--test 120] [--seed 0]
 *     [--config '{"normalise":"robust"}'] [--param name=value …] [--calibration global|location] DATASET_DIR …
 *
 * `--full` keeps every image in the set's own order, as `kensa bench` does (a shuffled order alone moves cookies' image
 * AUROC by about 0.015: the folds and the patch reservoir draw differently).
 * Training runs on one thread, so full sets take about twice `kensa bench`'s time.
 */
import { ALGORITHMS, benchAlgorithm, loadMvtecDataset, type AlgorithmDefinition, type BenchResult, type MvtecDataset, type ModelState } from '../src/index.ts';
import { createPatchSample, DEFAULT_PS_CONFIG, type PsConfig } from '../src/algorithms/ps/index.ts';
import { quickSubset } from './quick-subset.ts';

const args = process.argv.slice(2);
let trainCount = 80, testCount = 120, seed = 0, full = false;
let config: Partial<PsConfig> = {};
let calibration: 'global' | 'location' | undefined; // (also 'border' and 'auto', passed through to the engine)
const params: Record<string, unknown> = {};
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--train') trainCount = Number(args[++i]);
  else if (args[i] === '--test') testCount = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else if (args[i] === '--full') full = true;
  else if (args[i] === '--config') config = JSON.parse(args[++i]) as Partial<PsConfig>;
  else if (args[i] === '--calibration') calibration = args[++i] as 'global' | 'location';
  else if (args[i] === '--param') {
    const [name, ...rest] = args[++i].split('=');
    params[name] = rest.join('=');
  } else roots.push(args[i]);
}

/** A seeded subset (see quickSubset), or the whole set with --full. */
function subset(dataset: MvtecDataset): MvtecDataset {
  return full ? dataset : quickSubset(dataset, trainCount, testCount, seed);
}

const id = 'PS:quick';
ALGORITHMS.push(createPatchSample({ ...DEFAULT_PS_CONFIG, ...config }, id) as unknown as AlgorithmDefinition<ModelState>);
const f3 = (v: number | null) => (v === null || Number.isNaN(v) ? '  -  ' : v.toFixed(3));
const results: BenchResult[] = [];
console.log(`config ${JSON.stringify(config)} params ${JSON.stringify(params)} calibration ${calibration ?? '-'} ${full ? 'full sets' : `train ${trainCount} test ${testCount} seed ${seed}`}`);
for (const root of roots) {
  const dataset = subset(await loadMvtecDataset(root));
  // One thread: cross-fit workers rebuild an algorithm from the registry they load, which lacks this configured PS (the same
  // model either way: test/cross-fit-threads.test.ts).
  const r = await benchAlgorithm(dataset, id, { params, calibration, threads: 1 });
  results.push(r);
  console.log(`${dataset.name.padEnd(14)} img ${f3(r.image_auroc)} pix ${f3(r.pixel_auroc)} aupro ${f3(r.aupro)} f1 ${f3(r.f1)} train ${r.train_seconds.toFixed(1)}s infer/decode ${(r.infer_ms_per_image / r.decode_ms_per_image).toFixed(2)} (${r.infer_ms_per_image.toFixed(1)} ms) rss ${r.peak_rss_mb.toFixed(0)} auto ${JSON.stringify(r.auto_tuned)}`);
  console.log(`  by defect ${Object.entries(r.image_auroc_by_defect).map(([d, v]) => `${d} ${f3(v)}`).join(', ')}`);
}
const images = results.map((r) => r.image_auroc);
const f1s = results.map((r) => r.f1);
console.log(`MEAN img ${f3(images.reduce((s, v) => s + v, 0) / images.length)} f1 ${f3(f1s.reduce((s, v) => s + v, 0) / f1s.length)}  WORST img ${f3(Math.min(...images))} f1 ${f3(Math.min(...f1s))}`);
