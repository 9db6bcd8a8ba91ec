import type { FloatMap, Raster } from '../../image/raster.ts';
import { describePatches, fitPatchDescriptors, type PatchDescriptorModel } from '../../features/patch-descriptors.ts';
import { smoothedPatchScoreMap } from '../../features/patch-score-map.ts';
import { fitOneClassSvm, svmLogMargin, type OneClassSvm } from '../../kernels/one-class-svm.ts';
import { fitOutlierMargin, outlierMargin, type OutlierMargin } from '../../kernels/outlier-margin.ts';
import { Random } from '../../kernels/random.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, type ParamValues } from '../../params/schema.ts';
import { checkAborted, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';

/**
 * OC — Vector Inspection: a one-class SVM (RBF kernel, trained by SMO) draws a boundary around the feature
 * vectors of good patches; a patch's anomaly grows with how far outside the boundary it falls.
 * `contamination` is the share of training patches expected to be outliers and becomes the SVM's ν (the
 * bound on training patches left outside), capped by `nu_max`: ν is also the least share of training
 * patches kept as support vectors, so the cap bounds the model's size and inspection time.
 */
interface VectorState {
  [key: string]: PatchDescriptorModel | OneClassSvm | OutlierMargin;
  descriptor: PatchDescriptorModel;
  svm: OneClassSvm;
  margin: OutlierMargin;
}

/**
 * Patches the SVM is solved on (at most train_size). More points steady the boundary (the image AUROC on
 * cookies varied by ±0.04 between seeds with 2000) but add support vectors, which inspection pays for.
 */
const SVM_POINTS = 5000;
/** Fewest support vectors worth having: below this, ν is raised. */
const MIN_SUPPORT_VECTORS = 20;

function train(samples: TrainingSample[], params: ParamValues, context: TrainContext): VectorState {
  const good = samples.filter((s) => s.good !== false).map((s) => s.raster);
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const seed = num(params, 'seed');
  const random = new Random(seed);
  checkAborted(context.signal);
  context.onProgress(0, 'patch features');
  const trainSize = num(params, 'train_size');
  const { model: descriptor, rows } = fitPatchDescriptors(good, {
    patchWidth, patchHeight, step, random, samplePatches: trainSize, logMagnitudes: true, checkAbort: () => checkAborted(context.signal),
  });
  const dims = descriptor.dims;
  const picks = random.sample(rows.length / dims, Math.min(trainSize, SVM_POINTS));
  const data = new Float32Array(picks.length * dims);
  picks.forEach((p, i) => data.set(rows.subarray(p * dims, (p + 1) * dims), i * dims));
  checkAborted(context.signal);
  context.onProgress(0.3, 'solving the one-class SVM');
  const nu = Math.min(num(params, 'nu_max'), Math.max(num(params, 'contamination'), MIN_SUPPORT_VECTORS / picks.length));
  const svm = fitOneClassSvm(data, dims, {
    nu, checkAbort: () => checkAborted(context.signal),
    onProgress: (f) => context.onProgress(0.3 + 0.6 * f, 'solving the one-class SVM'),
  });
  checkAborted(context.signal);
  context.onProgress(0.9, 'scoring training patches');
  // The margin's zero is the SVM's own boundary (f = 0); its unit, the spread over training patches.
  const margin = { ...fitOutlierMargin(svmLogMargin(svm, data), 0.5), offset: 0 };
  context.onProgress(1, 'done');
  return { descriptor, svm, margin };
}

function anomalyMap(state: VectorState, raster: Raster): FloatMap {
  const { grid, data } = describePatches(state.descriptor, raster);
  const outside = svmLogMargin(state.svm, data);
  for (let i = 0; i < outside.length; i++) outside[i] = outlierMargin(outside[i], state.margin);
  return smoothedPatchScoreMap(outside, grid);
}

export const vectorInspection: AlgorithmDefinition<VectorState> = {
  id: 'OC',
  name: 'Vector Inspection',
  type: 'unsupervised',
  version: 1,
  description: {
    en: 'A one-class SVM (RBF kernel) draws a boundary around the feature vectors of good patches; patches outside it are anomalous.',
    ja: 'ワンクラスSVM（RBFカーネル）が良品パッチの特徴ベクトルを囲む境界を学習し、その外側のパッチを異常とします。',
  },
  learnsFrom: { en: 'OK images and a few NG', ja: 'OK画像と少数のNG画像' },
  parameters: [
    ...sharedParameters(300),
    {
      id: 320, name: 'contamination', type: 'float', default: 0.01, min: 0.0001, max: 0.5,
      autoTune: [0.001, 0.01, 0.1], modelParameter: true,
      description: {
        en: 'Share of training patches expected to be outliers; the SVM leaves at most this share outside its boundary (its ν, capped by nu_max).',
        ja: '外れ値と見込む学習パッチの割合。SVMは最大でこの割合を境界の外に残します（ν、nu_maxが上限）。',
      },
      effect: { en: 'Larger: a tighter boundary, more alarms and more support vectors (slower).', ja: '大きいほど境界が狭く、検出が増え、サポートベクトルも増えます（遅くなります）。' },
    },
    {
      id: 321, name: 'nu_max', type: 'float', default: 0.1, min: 0.001, max: 1, autoTune: null, modelParameter: true,
      description: { en: 'Upper bound of the SVM’s ν, and so of the share of training patches kept as support vectors.', ja: 'SVMのνの上限（サポートベクトルとして残る学習パッチの割合の上限）。' },
      effect: { en: 'Lower: a smaller, faster model.', ja: '小さいほどモデルが小さく高速です。' },
    },
  ],
  requires: { okImages: 1 },
  train,
  anomalyMap,
};
