import type { CompactMap, Raster } from '../../image/raster.ts';
import { describePatches, fitPatchDescriptors, type PatchDescriptorModel } from '../../features/patch-descriptors.ts';
import { compactSmoothedPatchScores } from '../../features/patch-score-map.ts';
import { fitIsolationForest, isolationScores, type IsolationForest } from '../../kernels/isolation-forest.ts';
import { fitOutlierMargin, outlierMargin, type OutlierMargin } from '../../kernels/outlier-margin.ts';
import { Random } from '../../kernels/random.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, type ParamValues } from '../../params/schema.ts';
import { atMostImages, checkAborted, MAX_HELD_TRAINING_IMAGES, loadRasters, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';

/**
 * IF — Hunter Grove Inspection: an isolation forest of patch feature vectors. Patches of good images take
 * many random splits to isolate; a defect's patches, unlike any good patch, are isolated in few. A patch's
 * anomaly is the standard score 2^(−E[h]/c(ψ)), taken relative to the level only `contamination` of the
 * training patches exceed.
 */
interface IsolationState {
  [key: string]: PatchDescriptorModel | IsolationForest | OutlierMargin;
  descriptor: PatchDescriptorModel;
  forest: IsolationForest;
  margin: OutlierMargin;
}

/** Points each tree is grown on: the original paper's ψ = 256. */
const SAMPLES_PER_TREE = 256;

async function train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<IsolationState> {
  // The descriptor is fitted on every raster at once: at most MAX_HELD_TRAINING_IMAGES of them are held.
  const good = await loadRasters(atMostImages(samples.filter((s) => s.good !== false), num(params, 'seed')), context.signal);
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const seed = num(params, 'seed');
  const trees = num(params, 'n_estimators');
  const random = new Random(seed);
  checkAborted(context.signal);
  context.onProgress(0, 'patch-features');
  const { model: descriptor, rows: data } = fitPatchDescriptors(good, {
    patchWidth, patchHeight, step, random, samplePatches: num(params, 'train_size'), checkAbort: () => checkAborted(context.signal),
  });
  checkAborted(context.signal);
  context.onProgress(0.6, 'growing-trees');
  const forest = fitIsolationForest(data, descriptor.dims, {
    trees, maxSamples: SAMPLES_PER_TREE, seed: seed + 1, checkAbort: () => checkAborted(context.signal),
    onTree: (done) => context.onProgress(0.6 + (0.35 * done) / trees, 'growing-trees'),
  });
  checkAborted(context.signal);
  const margin = fitOutlierMargin(isolationScores(forest, data), num(params, 'contamination'));
  context.onProgress(1);
  return { descriptor, forest, margin };
}

function compactAnomalyMap(state: IsolationState, raster: Raster): CompactMap {
  const { grid, data } = describePatches(state.descriptor, raster);
  const scores = isolationScores(state.forest, data);
  for (let i = 0; i < scores.length; i++) scores[i] = outlierMargin(scores[i], state.margin);
  return compactSmoothedPatchScores(scores, grid);
}

export const isolationForestInspection: AlgorithmDefinition<IsolationState> = {
  id: 'IF',
  name: 'Hunter Grove Inspection',
  type: 'unsupervised',
  version: 1,
  description: {
    en: 'An isolation forest of patch feature vectors (colour, gradient, texture, structure): patches unlike any good patch are isolated by few random splits.',
    ja: 'パッチ特徴ベクトル（色・勾配・テクスチャ・構造）のアイソレーションフォレスト。良品のどのパッチとも異なるパッチは少ない分割で孤立します。',
  },
  learnsFrom: { en: 'OK images and a few NG', ja: 'OK画像と少数のNG画像' },
  parameters: [
    ...sharedParameters(400),
    {
      id: 420, name: 'n_estimators', type: 'int', default: 100, min: 1, max: 1000, autoTune: [10, 50, 100, 200], modelParameter: true,
      description: { en: 'Number of isolation trees.', ja: '孤立木の数。' },
      effect: { en: 'More: steadier scores, slower training and inspection.', ja: '多いほどスコアが安定し、学習と検査が遅くなります。' },
    },
    {
      id: 421, name: 'contamination', type: 'float', default: 0.01, min: 0.0001, max: 0.5, autoTune: null, modelParameter: true,
      description: {
        en: 'Share of training patches taken as outliers: patches scoring above what this share exceeds count as anomalous.',
        ja: '外れ値とみなす学習パッチの割合。この割合のパッチが超えるスコアを上回るパッチを異常とします。',
      },
      effect: { en: 'Larger: more of the map lights up, also on good images.', ja: '大きいほど異常マップの反応が広がり、良品でも反応しやすくなります。' },
    },
  ],
  requires: { okImages: 1 },
  maxOkImages: MAX_HELD_TRAINING_IMAGES,
  train,
  anomalyMap: (state, raster) => compactAnomalyMap(state, raster).expand(),
  compactAnomalyMap,
};
