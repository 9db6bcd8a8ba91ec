import { filterBank, poolOnGrid } from '../../features/filter-bank.ts';
import { patchGrid, patchScoresToMap } from '../../features/patches.ts';
import type { FloatMap, Raster } from '../../image/raster.ts';
import { greedyCoreset } from '../../kernels/coreset.ts';
import { buildKnnIndex, KnnSearcher, searchKnn, type KnnIndex } from '../../kernels/knn.ts';
import { Random } from '../../kernels/random.ts';
import { quantile } from '../../calibration/quantile.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, str, type ParameterSpec, type ParamValues } from '../../params/schema.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { checkAborted, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';
import { fitPca } from '../../kernels/pca.ts';
import {
  featureStatistics, finishDescriptors, finishedDims, makeProjection, patchCentres, positionR2, rawDescriptors,
  type DescriptorSettings, type Projection, type RawDescriptors,
} from './descriptors.ts';

/**
 * PS — Patch Sample Inspection: a memory bank of patch descriptors from OK images; a patch's anomaly is
 * its distance to the nearest patch in the bank, divided by how spread out good patches are around that
 * neighbour. Descriptors are rotation-invariant filter responses (see `features/filter-bank.ts`), so a part
 * may be placed and turned freely; where the training images show that the part is aligned, position
 * joins the descriptor, so that a patch must look like what good images have *at that place* (a missing
 * arm leaves background that looks normal anywhere else).
 */
export interface PsConfig {
  levels: number;
  /** Finest pyramid level that gives features. */
  firstLevel: number;
  colour: boolean;
  normalise: 'robust' | 'none';
  /** Position weight (placement 'aligned') is this gain times R² squared (R²: how much position explains). */
  positionGain: number;
  /**
   * Placement 'auto' uses position when it makes good patches of held-out training images at most this
   * much farther from their nearest good patch (99th percentile), i.e. when the product sits still.
   */
  positionTolerance: number;
  /** The position weight at which that cost is measured (one image width costs this many standard deviations). */
  positionProbe: number;
  /** Divide the NN distance by the matched bank point's distance to its k-th neighbour in the bank. */
  density: boolean;
  densityK: number;
  /** Patches drawn at random before the coreset. */
  sampleSize: number;
  coreset: 'greedy' | 'random';
  /** Blur of the patch-score map, in patch steps. */
  smoothing: number;
  /** How that blur treats the map's borders (see `gaussianBlur`). */
  smoothingBorders: 'clamp' | 'normalised';
}

export const DEFAULT_PS_CONFIG: PsConfig = {
  levels: 4,
  firstLevel: 0,
  colour: true,
  normalise: 'none',
  positionGain: 30,
  positionTolerance: 1.2,
  positionProbe: 12,
  density: true,
  densityK: 3,
  sampleSize: 30000,
  coreset: 'greedy',
  smoothing: 2,
  // Clamped borders let an edge patch weigh up to half of its own blur: 6 of the 14 good cookies test images
  // had their maximum on the border (cookies image AUROC 0.986 with 'clamp', 0.993 with 'normalised').
  smoothingBorders: 'normalised',
};

export interface PsState {
  [key: string]: number | Float32Array | KnnIndex | Projection;
  projection: Projection;
  positionWeight: number;
  positionR2: number;
  /** Held-out 99th-percentile distance with position over without (placement 'auto'), else 1. */
  positionCost: number;
  /** Neighbourhood radius of each bank point (by the bank's original row). */
  radius: Float32Array;
  index: KnnIndex;
}

function descriptorSettings(config: PsConfig, params: ParamValues): DescriptorSettings {
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const levels = config.levels + (num(params, 'model_type') === 1 ? 1 : 0);
  return { levels, firstLevel: config.firstLevel, colour: config.colour, normalise: config.normalise, patchWidth, patchHeight, step };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * 99th percentile of held-out patches' distance to the nearest patch of the other half of the images
 * (two folds), with the given position weight: what a new good image's patches will score.
 */
function heldOutDistance(raws: RawDescriptors[], projection: Projection, positionWeight: number, random: Random): number {
  const distances: number[] = [];
  for (let fold = 0; fold < 2; fold++) {
    const bankPart = raws.filter((_, i) => i % 2 !== fold).map((r) => finishDescriptors(r, projection, positionWeight));
    const heldOut = raws.filter((_, i) => i % 2 === fold).map((r) => finishDescriptors(r, projection, positionWeight));
    const dims = bankPart[0].dims;
    const pool = concat(bankPart.map((d) => d.data));
    const picks = random.sample(pool.length / dims, 4000);
    const bank = new Float32Array(picks.length * dims);
    picks.forEach((p, i) => bank.set(pool.subarray(p * dims, p * dims + dims), i * dims));
    const queries = concat(heldOut.map((d) => d.data));
    const { distances: d } = searchKnn(buildKnnIndex(bank, dims), queries, 1);
    for (let i = 0; i < d.length; i++) distances.push(Math.sqrt(d[i]));
  }
  return quantile(distances, 0.99);
}

/**
 * Standardisation, principal components and the share of variance position explains, from every training patch.
 * Its own function so that the standardised copy of all patches is garbage once it returns.
 */
function fitDescriptorSpace(raws: RawDescriptors[], numFeatures: number): { projection: Projection; r2: number } {
  const rawDims = raws[0].dims;
  const all = concat(raws.map((r) => r.data));
  const { mean, scale } = featureStatistics(all, rawDims);
  for (let i = 0; i < all.length; i++) all[i] = (all[i] - mean[i % rawDims]) * scale[i % rawDims];
  const r2 = positionR2(all, rawDims, concat(raws.map((r) => patchCentres(r.grid))));
  return { projection: makeProjection(mean, scale, fitPca(all, rawDims), Math.min(rawDims, numFeatures)), r2 };
}

async function train(config: PsConfig, samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<PsState> {
  const ok = samples.filter((s) => s.good === true);
  const settings = descriptorSettings(config, params);
  const random = new Random(num(params, 'seed'));
  const raws: RawDescriptors[] = [];
  for (let i = 0; i < ok.length; i++) {
    checkAborted(context.signal);
    raws.push(rawDescriptors(ok[i].raster, settings));
    context.onProgress((0.4 * (i + 1)) / ok.length, 'patch features');
  }
  const { projection, r2 } = fitDescriptorSpace(raws, num(params, 'num_features'));
  const placement = str(params, 'placement');
  let positionWeight = placement === 'free' ? 0 : config.positionGain * r2 * r2;
  // How much farther good patches are from their match when position counts (1 = not at all).
  let positionCost = 1;
  if (placement === 'auto' && raws.length >= 4 && positionWeight > 0) {
    context.onProgress(0.45, 'placement');
    positionCost = heldOutDistance(raws, projection, config.positionProbe, random) / heldOutDistance(raws, projection, 0, random);
    if (positionCost > config.positionTolerance) positionWeight = 0;
  }

  // Sample, then a greedy coreset of the sample: the bank. Each image's descriptors are finished and sampled in turn,
  // and the raw ones let go before the coreset: every patch of every image in three copies took ~0.3 GB for 250 images.
  const patchesPerImage = raws.map((r) => r.data.length / r.dims);
  const total = patchesPerImage.reduce((sum, n) => sum + n, 0);
  const picks = random.sample(total, Math.min(total, config.sampleSize)).sort((a, b) => a - b);
  const dims = finishedDims(projection, positionWeight);
  const sample = new Float32Array(picks.length * dims);
  for (let image = 0, first = 0, next = 0; image < raws.length && next < picks.length; first += patchesPerImage[image], image++) {
    const end = first + patchesPerImage[image];
    if (picks[next] >= end) continue;
    const finished = finishDescriptors(raws[image], projection, positionWeight).data;
    for (; next < picks.length && picks[next] < end; next++) {
      const row = picks[next] - first;
      sample.set(finished.subarray(row * dims, row * dims + dims), next * dims);
    }
  }
  raws.length = 0;
  checkAborted(context.signal);
  context.onProgress(0.5, 'memory bank');
  const bankSize = Math.min(num(params, 'train_size'), picks.length);
  let rows: Int32Array;
  if (config.coreset === 'greedy') {
    rows = greedyCoreset(sample, dims, bankSize, { seed: num(params, 'seed'), projectTo: Math.min(dims, 16) }).selected;
  } else {
    rows = Int32Array.from(random.sample(picks.length, bankSize));
  }
  const bank = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => bank.set(sample.subarray(r * dims, r * dims + dims), i * dims));
  checkAborted(context.signal);
  context.onProgress(0.7, 'nearest-neighbour index');
  const index = buildKnnIndex(bank, dims);
  // Neighbourhood radius of each bank point: distance to its k-th nearest fellow in the bank.
  const radius = new Float32Array(rows.length).fill(1);
  if (config.density && rows.length > config.densityK) {
    const k = config.densityK;
    const { distances } = searchKnn(index, bank, k, { excludeSelf: true });
    const levels = Float32Array.from({ length: rows.length }, (_, i) => Math.sqrt(distances[i * k + k - 1]));
    const typical = Float32Array.from(levels).sort()[rows.length >> 1] || 1;
    // Floored at half the typical radius: near-duplicates must not make their neighbourhood infinitely strict.
    for (let i = 0; i < rows.length; i++) radius[i] = Math.max(levels[i], typical * 0.5) / typical;
  }
  context.onProgress(1, 'done');
  return { projection, positionWeight, positionR2: r2, positionCost, radius, index };
}

/** Receives the milliseconds of each stage of `anomalyMap` (for profiling). */
type StageTimer = (stage: string, ms: number) => void;

function anomalyMap(config: PsConfig, state: PsState, raster: Raster, params: ParamValues, time?: StageTimer): FloatMap {
  let t = time ? performance.now() : 0;
  const lap = (stage: string) => {
    if (!time) return;
    const now = performance.now();
    time(stage, now - t);
    t = now;
  };
  const settings = descriptorSettings(config, params);
  const grid = patchGrid(raster.width, raster.height, settings.patchWidth, settings.patchHeight, settings.step);
  const levels = filterBank(raster, settings);
  lap('filter bank');
  const raw = { grid, ...poolOnGrid(levels, grid) };
  lap('pooling');
  const { dims, data } = finishDescriptors(raw, state.projection, state.positionWeight);
  lap('projection');
  const count = data.length / dims;
  const searcher = new KnnSearcher(state.index, 1);
  const scores = new Float32Array(count);
  const hint = new Int32Array(1).fill(-1);
  const previousRow = new Int32Array(raw.grid.columns).fill(-1);
  const hints = new Int32Array(2);
  for (let p = 0; p < count; p++) {
    // Try the left and upper neighbours' matches first: they are usually close to this patch's match.
    const gx = p % raw.grid.columns;
    hints[0] = hint[0];
    hints[1] = previousRow[gx];
    searcher.search(data, p * dims, hints);
    const id = searcher.idOf(0);
    scores[p] = Math.sqrt(searcher.best[0]) / state.radius[id];
    hint[0] = id;
    previousRow[gx] = id;
  }
  lap('nearest neighbours');
  const scoreGrid: FloatMap = { width: raw.grid.columns, height: raw.grid.rows, data: scores };
  const smooth = config.smoothing > 0 ? gaussianBlur(scoreGrid, config.smoothing, config.smoothingBorders) : scoreGrid;
  lap('smoothing');
  const map = patchScoresToMap(smooth.data, raw.grid);
  lap('patch scores to pixels');
  return map;
}

/** The default PS's anomaly map with the milliseconds of each stage (bench/ps-profile.ts). */
export function profilePsStages(state: PsState, raster: Raster, params: ParamValues): { map: FloatMap; times: Record<string, number> } {
  const times: Record<string, number> = {};
  const map = anomalyMap(DEFAULT_PS_CONFIG, state, raster, params, (stage, ms) => { times[stage] = (times[stage] ?? 0) + ms; });
  return { map, times };
}

const OWN_PARAMETERS: ParameterSpec[] = [
  {
    id: 820, name: 'model_type', type: 'int', default: 0, min: 0, max: 1, autoTune: null, modelParameter: true,
    description: {
      en: 'Model size: 0 small (four scales of features, fast), 1 large (one coarser scale more: larger structures, slower).',
      ja: 'モデルの大きさ：0 小（4段階の特徴、高速）、1 大（さらに粗い段階を追加：大きな構造を捉え、低速）。',
    },
    effect: { en: 'Large: sees larger defects and shapes; inspection about a quarter slower.', ja: '大：より大きな欠陥や形を捉えます。検査は約25%遅くなります。' },
  },
  {
    id: 821, name: 'num_features', type: 'int', default: 100, min: 2, max: 1000, autoTune: null, modelParameter: true,
    description: {
      en: 'Most features per patch: when the filter bank gives more, they are projected onto this many principal components.',
      ja: 'パッチごとの特徴量の上限。フィルタバンクの特徴がこれより多いときは、この数の主成分に射影します。',
    },
    effect: { en: 'Fewer: faster nearest-neighbour search, coarser comparison.', ja: '少ないほど近傍探索は速く、比較は粗くなります。' },
  },
  {
    id: 822, name: 'placement', type: 'str', default: 'auto', options: ['auto', 'aligned', 'free'], autoTune: null, modelParameter: true,
    description: {
      en: 'aligned: parts sit at about the same place in every photo, so a patch is compared mostly with good patches from the same place (finds missing parts), weighted by how much place explains the training images; free: parts may sit anywhere (position is ignored); auto: aligned when the training images show that good patches still find close matches at their own place (held-out check), else free.',
      ja: 'aligned：部品が毎回ほぼ同じ位置に写るので、パッチを主に同じ位置の正常パッチと比べます（欠品を検出。位置の効き方は学習画像から決定）。free：部品はどこにあってもよい（位置を無視）。auto：学習画像で、同じ位置の正常パッチだけでも十分近い一致が見つかるなら aligned、そうでなければ free（検証用に分けた画像で確認）。',
    },
    effect: { en: 'aligned finds missing or misplaced parts; free tolerates any placement. auto adds a little training time (a held-out check).', ja: 'aligned は欠品や位置ずれを検出し、free はどんな置き方も許容します。auto は学習が少し延びます（検証用の確認）。' },
  },
];

export function createPatchSample(config: PsConfig = DEFAULT_PS_CONFIG, id = 'PS'): AlgorithmDefinition<PsState> {
  return {
    id,
    name: 'Patch Sample Inspection',
    type: 'unsupervised',
    version: 3,
    description: {
      en: 'Keeps a memory bank of patch features from OK images and flags patches far from every one of them; copes with parts placed and turned differently.',
      ja: 'OK画像のパッチ特徴をメモリバンクに蓄え、そのどれからも遠いパッチを異常とします。置き方や向きが変わっても対応します。',
    },
    learnsFrom: { en: 'OK images; placement and rotation may vary', ja: 'OK画像（置き方・向きが変わってもよい）' },
    parameters: [
      ...sharedParameters(800, { train_size: 4000, min_inspection_size: [8, 8], min_inspection_step: 4 }).map((spec) => (spec.name === 'train_size' ? {
        ...spec,
        description: {
          en: 'Patches kept in the memory bank (a greedy coreset of the training patches: rare good patterns are kept).',
          ja: 'メモリバンクに残すパッチの数（学習パッチのグリーディ・コアセット：まれな正常パターンも残ります）。',
        },
        effect: { en: 'More: fewer false alarms on unusual good patches, slower training and inspection.', ja: '多いほど珍しい正常パッチでの誤検出が減り、学習と検査は遅くなります。' },
      } : spec)),
      ...OWN_PARAMETERS,
    ],
    requires: { okImages: 2 },
    // Position is already in the descriptors where it matters (placement 'aligned'), and nowhere where it
    // must not (placement 'free'): a per-location calibration on top double-counts it (measured: cookies
    // image/pixel AUROC 0.986/0.917 with it, 0.996/0.967 without; aliens 0.983 against 0.998).
    calibration: 'global',
    train: (samples, params, context) => train(config, samples, params, context),
    anomalyMap: (state, raster, params) => anomalyMap(config, state, raster, params),
  };
}

export const patchSample = createPatchSample();
