import { patchScoresToMap } from '../../features/patches.ts';
import type { FloatMap, Raster } from '../../image/raster.ts';
import { greedyCoreset } from '../../kernels/coreset.ts';
import { buildKnnIndex, KnnSearcher, searchKnn, type KnnIndex } from '../../kernels/knn.ts';
import { Random } from '../../kernels/random.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, str, type ParameterSpec, type ParamValues } from '../../params/schema.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { checkAborted, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';
import { fitPca } from '../../kernels/pca.ts';
import {
  featureStatistics, finishDescriptors, makeProjection, patchCentres, positionR2, rawDescriptors,
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
  /** Position weight: a number, or 'auto' (from how much position explains the features). */
  positionWeight: number | 'auto';
  /** Position weight at R² = 1 for 'auto'. */
  positionGain: number;
  /** Divide the NN distance by the matched bank point's distance to its k-th neighbour in the bank. */
  density: boolean;
  densityK: number;
  /** The level is raised to this power before dividing (0 = none, 1 = full). */
  densityPower: number;
  /** Radii below this fraction of the typical radius count as this fraction. */
  densityFloor: number;
  /** Patches drawn at random before the coreset. */
  sampleSize: number;
  coreset: 'greedy' | 'random';
  /** Blur of the patch-score map, in patch steps. */
  smoothing: number;
}

export const DEFAULT_PS_CONFIG: PsConfig = {
  levels: 5,
  firstLevel: 1,
  colour: true,
  normalise: 'none',
  positionWeight: 'auto',
  positionGain: 30,
  density: true,
  densityK: 3,
  densityPower: 1,
  densityFloor: 0.5,
  sampleSize: 30000,
  coreset: 'greedy',
  smoothing: 2,
};

export interface PsState {
  [key: string]: number | Float32Array | KnnIndex | Projection;
  projection: Projection;
  positionWeight: number;
  positionR2: number;
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
  const rawDims = raws[0].dims;
  const all = concat(raws.map((r) => r.data));
  const { mean, scale } = featureStatistics(all, rawDims);
  for (let i = 0; i < all.length; i++) all[i] = (all[i] - mean[i % rawDims]) * scale[i % rawDims];
  const r2 = positionR2(all, rawDims, concat(raws.map((r) => patchCentres(r.grid))));
  const positionWeight = str(params, 'placement') === 'free' ? 0
    : config.positionWeight === 'auto' ? config.positionGain * r2 * r2 : config.positionWeight;
  const projection = makeProjection(mean, scale, fitPca(all, rawDims), Math.min(rawDims, num(params, 'num_features')));

  // Sample, then a greedy coreset of the sample: the bank.
  const descriptors = raws.map((r) => finishDescriptors(r, projection, positionWeight));
  const dims = descriptors[0].dims;
  const total = descriptors.reduce((s, d) => s + d.data.length / dims, 0);
  const picks = random.sample(total, Math.min(total, config.sampleSize)).sort((a, b) => a - b);
  const pool = concat(descriptors.map((d) => d.data));
  const sample = new Float32Array(picks.length * dims);
  picks.forEach((p, i) => sample.set(pool.subarray(p * dims, p * dims + dims), i * dims));
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
  const index = buildKnnIndex(bank, dims, { seed: num(params, 'seed') });
  // Neighbourhood radius of each bank point: distance to its k-th nearest fellow in the bank.
  const radius = new Float32Array(rows.length).fill(1);
  if (config.density && rows.length > config.densityK) {
    const k = config.densityK;
    const { distances } = searchKnn(index, bank, k, { excludeSelf: true });
    const levels = Float32Array.from({ length: rows.length }, (_, i) => Math.sqrt(distances[i * k + k - 1]));
    const typical = Float32Array.from(levels).sort()[rows.length >> 1] || 1;
    // Floored: near-duplicates must not make their neighbourhood infinitely strict.
    for (let i = 0; i < rows.length; i++) radius[i] = (Math.max(levels[i], typical * config.densityFloor) / typical) ** config.densityPower;
  }
  context.onProgress(1, 'done');
  return { projection, positionWeight, positionR2: r2, radius, index };
}

function anomalyMap(config: PsConfig, state: PsState, raster: Raster, params: ParamValues): FloatMap {
  const raw = rawDescriptors(raster, descriptorSettings(config, params));
  const { dims, data } = finishDescriptors(raw, state.projection, state.positionWeight);
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
  const grid: FloatMap = { width: raw.grid.columns, height: raw.grid.rows, data: scores };
  const smooth = config.smoothing > 0 ? gaussianBlur(grid, config.smoothing) : grid;
  return patchScoresToMap(smooth.data, raw.grid);
}

const OWN_PARAMETERS: ParameterSpec[] = [
  {
    id: 820, name: 'model_type', type: 'int', default: 0, min: 0, max: 1, autoTune: null, modelParameter: true,
    description: {
      en: 'Model size: 0 small (four scales of features, fast), 1 large (one coarser scale more: larger structures, slower).',
      ja: 'モデルの大きさ：0 小（4段階の特徴、高速）、1 大（さらに粗い段階を追加：大きな構造を捉え、低速）。',
    },
    effect: { en: 'Large: sees larger defects and shapes, about 20 % slower.', ja: '大：より大きな欠陥や形を捉え、約2割遅くなります。' },
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
    id: 822, name: 'placement', type: 'str', default: 'aligned', options: ['aligned', 'free'], autoTune: ['aligned', 'free'], modelParameter: true,
    description: {
      en: 'aligned: parts sit at about the same place in every photo, so a patch is compared mostly with good patches from the same place (finds missing parts), weighted by how much place explains the training images; free: parts may sit anywhere (position is ignored). Left out: chosen by validation on the training images.',
      ja: 'aligned：部品が毎回ほぼ同じ位置に写るので、パッチを主に同じ位置の正常パッチと比べます（欠品を検出。位置の効き方は学習画像から決定）。free：部品はどこにあってもよい（位置を無視）。省略時は学習画像での検証で選びます。',
    },
    effect: { en: 'aligned finds missing or misplaced parts; free tolerates any placement. AutoTune trains both (longer training).', ja: 'aligned は欠品や位置ずれを検出し、free はどんな置き方も許容します。自動調整では両方を学習します（学習時間が延びます）。' },
  },
];

export function createPatchSample(config: PsConfig = DEFAULT_PS_CONFIG, id = 'PS'): AlgorithmDefinition<PsState> {
  return {
    id,
    name: 'Patch Sample Inspection',
    type: 'unsupervised',
    version: 1,
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
    train: (samples, params, context) => train(config, samples, params, context),
    anomalyMap: (state, raster, params) => anomalyMap(config, state, raster, params),
  };
}

export const patchSample = createPatchSample();
