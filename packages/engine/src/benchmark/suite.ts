import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '../kernels/random.ts';
import type { BenchResult, DatasetImage, MvtecDataset } from './mvtec.ts';

/** A folder that is neither a dataset in the MVTec AD layout nor holds any. */
export class NoDatasetError extends Error {
  constructor(root: string, reason: string) {
    super(`${root} ${reason}: a dataset in the MVTec AD layout has train/good/ and test/ (a suite is a folder of such datasets)`);
    this.name = 'NoDatasetError';
  }
}

const isDataset = (dir: string) => existsSync(join(dir, 'train', 'good')) && existsSync(join(dir, 'test'));

/**
 * The datasets a bench run covers: the folder itself when it is one dataset, else every sub-folder that is one
 * (a suite), by name.
 */
export async function findDatasets(root: string): Promise<string[]> {
  if (!existsSync(root)) throw new NoDatasetError(root, 'does not exist');
  if (!statSync(root).isDirectory()) throw new NoDatasetError(root, 'is not a folder');
  if (isDataset(root)) return [root];
  const entries = await readdir(root, { withFileTypes: true });
  const sets = entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name)).filter(isDataset)
    .sort((a, b) => a.localeCompare(b));
  if (sets.length === 0) throw new NoDatasetError(root, 'holds no dataset');
  return sets;
}

/** The quick mode's bounds: at most this many train images and this many test images of each set. */
export const QUICK_TRAIN_IMAGES = 60;
export const QUICK_TEST_IMAGES = 60;
const QUICK_SEED = 12;

/**
 * A fixed, seeded subset of a dataset for iterating: at most `QUICK_TRAIN_IMAGES` train images and
 * `QUICK_TEST_IMAGES` test images, the test images stratified by defect kind ("good" is a kind) in proportion to
 * each kind's share, every kind keeping at least one. The same dataset always gives the same subset, in the
 * dataset's own order.
 */
export function quickSubset(dataset: MvtecDataset, trainImages = QUICK_TRAIN_IMAGES, testImages = QUICK_TEST_IMAGES): MvtecDataset {
  const random = new Random(QUICK_SEED);
  const draw = (images: DatasetImage[], count: number) => {
    const kept = new Set(random.sample(images.length, count));
    return images.filter((_, i) => kept.has(i));
  };
  const kinds = new Map<string, DatasetImage[]>();
  for (const image of dataset.test) {
    const kind = image.defect ?? 'good';
    kinds.set(kind, [...(kinds.get(kind) ?? []), image]);
  }
  const quotas = stratifiedQuotas([...kinds.values()].map((images) => images.length), testImages);
  const keptTest = new Set([...kinds.values()].flatMap((images, k) => draw(images, quotas[k])));
  return { name: dataset.name, train: draw(dataset.train, trainImages), test: dataset.test.filter((t) => keptTest.has(t)) };
}

/**
 * How many of each stratum to keep so that `total` are kept in all: proportional shares rounded by largest
 * remainder, at least one of each stratum (when `total` allows), never more than a stratum holds.
 */
export function stratifiedQuotas(sizes: number[], total: number): number[] {
  const all = sizes.reduce((s, n) => s + n, 0);
  if (all <= total) return [...sizes];
  const exact = sizes.map((n) => (n / all) * total);
  const quotas = exact.map((e, k) => Math.min(sizes[k], Math.max(1, Math.floor(e))));
  let left = total - quotas.reduce((s, q) => s + q, 0);
  const byRemainder = sizes.map((_, k) => k).sort((a, b) => (exact[b] - quotas[b]) - (exact[a] - quotas[a]));
  for (const k of byRemainder) {
    if (left <= 0) break;
    if (quotas[k] < sizes[k]) { quotas[k]++; left--; }
  }
  // The floor of one per stratum can overshoot a tiny total: take back from the largest quotas.
  while (left < 0) {
    const largest = quotas.indexOf(Math.max(...quotas));
    quotas[largest]--;
    left++;
  }
  return quotas;
}

/** The figures a suite summary averages and takes the worst of; quality figures are worst lowest, costs highest. */
const QUALITY = ['image_auroc', 'pixel_auroc', 'aupro', 'f1'] as const;
const COST = ['train_seconds', 'train_cpu_seconds', 'cpu_seconds', 'infer_ms_per_image', 'infer_decode_ratio', 'peak_rss_mb', 'train_peak_rss_mb'] as const;
export type SummaryFigure = (typeof QUALITY)[number] | (typeof COST)[number];

export interface SuiteSummary {
  algorithm: string;
  datasets: number;
  /** Mean over the sets that have the figure (pixel metrics need masks). */
  mean: Record<SummaryFigure, number | null>;
  /** Worst over the sets: lowest quality figure, highest cost. */
  worst: Record<SummaryFigure, number | null>;
  /** Which set gave each worst figure. */
  worstSet: Record<SummaryFigure, string | null>;
}

/** A result as far as a summary reads it: its set and whichever figures it has (a record may keep only some). */
export type SummarisedResult = Pick<BenchResult, 'dataset'> & Partial<Record<SummaryFigure, number | null>>;

/** Mean and worst set of one algorithm's results over a suite. */
export function summariseSuite(algorithm: string, results: readonly SummarisedResult[]): SuiteSummary {
  const summary: SuiteSummary = { algorithm, datasets: results.length, mean: {} as SuiteSummary['mean'], worst: {} as SuiteSummary['worst'], worstSet: {} as SuiteSummary['worstSet'] };
  for (const figure of [...QUALITY, ...COST]) {
    const present = results.filter((r) => typeof r[figure] === 'number' && !Number.isNaN(r[figure]));
    const lowerIsWorse = (QUALITY as readonly string[]).includes(figure);
    const worst = present.reduce<SummarisedResult | null>((w, r) => (w === null || (lowerIsWorse ? r[figure]! < w[figure]! : r[figure]! > w[figure]!) ? r : w), null);
    summary.mean[figure] = present.length ? present.reduce((s, r) => s + r[figure]!, 0) / present.length : null;
    summary.worst[figure] = worst ? worst[figure]! : null;
    summary.worstSet[figure] = worst ? worst.dataset : null;
  }
  return summary;
}

/**
 * The results a `kensa bench` run printed: its `--json` last line (the suite's `results`) and the `ID on SET: {…}` line
 * each finished set writes to stderr, which a stopped run keeps. A later result of an algorithm on a set replaces an
 * earlier one.
 */
export function benchResultsIn(text: string): BenchResult[] {
  const found = new Map<string, BenchResult>();
  for (const line of text.split('\n')) {
    const finished = /^[A-Z]{2} on [^:]+: (\{.*\})$/.exec(line);
    const results: BenchResult[] = finished ? [JSON.parse(finished[1])] : line.startsWith('{"dataset"') ? JSON.parse(line).results : [];
    for (const r of results) found.set(`${r.algorithm} ${r.dataset}`, r);
  }
  return [...found.values()];
}
