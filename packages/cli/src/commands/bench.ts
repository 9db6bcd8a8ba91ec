import { ALGORITHMS, benchAlgorithm, loadMvtecDataset, type BenchResult } from '@kensa/engine';
import { parseFlags, type CommandSpec } from '../flags.ts';

export const benchCommand: CommandSpec = {
  name: 'bench',
  summary: 'Measure algorithms on a dataset in the MVTec AD layout',
  usage: 'kensa bench DATASET_DIR [--algorithm ID|all] [--size N] [--param name=value …] [--calibration global|location] [--json]',
  examples: [
    'kensa bench ../shared/datasets/cookies',
    'kensa bench ../shared/datasets/aliens --algorithm all --json',
  ],
  async run(argv) {
    const { positional, flags, repeated } = parseFlags(argv, { string: ['algorithm', 'size', 'calibration', 'subsample'], boolean: ['json'], repeat: ['param'] });
    const root = positional[0];
    if (!root) throw new Error('bench needs a dataset folder (MVTec layout)');
    const ids = !flags.algorithm || flags.algorithm === 'all' ? ALGORITHMS.map((a) => a.id) : String(flags.algorithm).split(',');
    const params: Record<string, unknown> = {};
    for (const p of repeated.param ?? []) {
      const [name, ...rest] = p.split('=');
      params[name] = rest.join('=');
    }
    const dataset = await loadMvtecDataset(root);
    const results: BenchResult[] = [];
    const log = (m: string) => process.stderr.write(`${m}\n`);
    for (const id of ids) {
      const result = await benchAlgorithm(dataset, id, {
        size: flags.size ? Number(flags.size) : undefined,
        params,
        calibration: flags.calibration as 'global' | 'location' | undefined,
        subsample: flags.subsample ? Number(flags.subsample) : undefined,
        onProgress: log,
      });
      results.push(result);
      if (!flags.json) printRow(result, results.length === 1);
    }
    if (flags.json) process.stdout.write(`${JSON.stringify({ dataset: dataset.name, results })}\n`);
    return 0;
  },
};

const f3 = (v: number | null) => (v === null || Number.isNaN(v) ? '   -  ' : v.toFixed(3));
function printRow(r: BenchResult, header: boolean): void {
  if (header) console.log('algo  img_auroc  pix_auroc  aupro   f1     train_s  decode_ms  infer_ms  rss_mb  model_mb');
  console.log(`${r.algorithm.padEnd(5)} ${f3(r.image_auroc).padStart(9)}  ${f3(r.pixel_auroc).padStart(9)}  ${f3(r.aupro).padStart(5)}  ${f3(r.f1)}  ${r.train_seconds.toFixed(1).padStart(7)}  ${r.decode_ms_per_image.toFixed(1).padStart(9)}  ${r.infer_ms_per_image.toFixed(1).padStart(8)}  ${r.peak_rss_mb.toFixed(0).padStart(6)}  ${r.model_mb.toFixed(2).padStart(8)}`);
}
