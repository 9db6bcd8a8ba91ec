import type { CompactMap, Raster } from '../../image/raster.ts';
import { describePatches, fitPatchDescriptors, type PatchDescriptorModel } from '../../features/patch-descriptors.ts';
import { compactSmoothedPatchScores } from '../../features/patch-score-map.ts';
import { fitOneClassSvm, svmLogMargin, type OneClassSvm } from '../../kernels/one-class-svm.ts';
import { fitOutlierMargin, outlierMargin, type OutlierMargin } from '../../kernels/outlier-margin.ts';
import { Random } from '../../kernels/random.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, type ParamValues } from '../../params/schema.ts';
import { atMostImages, checkAborted, MAX_HELD_TRAINING_IMAGES, loadRasters, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';

/**
 * OC — Vector Inspection: a one-class SVM (RBF kernel, trained by SMO) draws a boundary around the feature
 * vectors of good patches; a patch's anomaly grows with how far outside the boundary it falls.
 * The SVM's ν is `nu_max` (the share of training patches left outside, and the least share kept as support
 * vectors); `contamination` only lowers the map's zero when it is larger than that (see marginFor).
 */
interface OneClassSvmState {
  [key: string]: PatchDescriptorModel | OneClassSvm | OutlierMargin;
  descriptor: PatchDescriptorModel;
  svm: OneClassSvm;
  margin: OutlierMargin;
}

/**
 * Patches the SVM is solved on (at most train_size). With 5000 randomly drawn the image AUROC on cookies
 * ranged 0.932–0.984 over seeds 0–4; 10 000 drawn systematically (below) keep it within 0.977–0.988.
 * Support vectors grow with it (ν of them), which inspection pays for.
 */
const SVM_POINTS = 10_000;
/**
 * Patches the descriptor (PCA, standardisation, position weight) is fitted on. It varies with its sample
 * too: cookies seed 4 scored 0.955 with 10 000, 0.977 with 40 000. Cheap: a few box sums per patch.
 */
const DESCRIPTOR_PATCHES = 40_000;
/** Fewest support vectors worth having: below this, ν is raised. */
const MIN_SUPPORT_VECTORS = 20;

/**
 * About `total` described patches, the same number from each image, at an even stride through its grid (row by row)
 * from a random start: the sample covers every image and every part of it, where a random draw leaves gaps and clumps
 * that moved the boundary from seed to seed. One image is described at a time and only its picks are kept, so memory
 * grows with the sample, not with the number of images (describing every patch of 381 images first held ~120 MB).
 */
function systematicSample(descriptor: PatchDescriptorModel, images: Raster[], total: number, random: Random, signal?: AbortSignal): { data: Float32Array; count: number } {
  const dims = descriptor.dims;
  const perImage = total / images.length;
  const blocks: Float32Array[] = [];
  for (const raster of images) {
    checkAborted(signal);
    const described = describePatches(descriptor, raster).data;
    const count = described.length / dims;
    const stride = Math.max(1, count / perImage);
    const picks: number[] = [];
    for (let t = random.next() * stride; t < count; t += stride) picks.push(Math.floor(t));
    const block = new Float32Array(picks.length * dims);
    picks.forEach((p, i) => block.set(described.subarray(p * dims, (p + 1) * dims), i * dims));
    blocks.push(block);
  }
  const data = new Float32Array(blocks.reduce((s, b) => s + b.length, 0));
  let offset = 0;
  for (const block of blocks) {
    data.set(block, offset);
    offset += block.length;
  }
  return { data, count: data.length / dims };
}

async function train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<OneClassSvmState> {
  // The descriptor is fitted on every raster at once: at most MAX_HELD_TRAINING_IMAGES of them are held.
  const good = await loadRasters(atMostImages(samples.filter((s) => s.good !== false), num(params, 'seed')), context.signal);
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const random = new Random(num(params, 'seed'));
  checkAborted(context.signal);
  context.onProgress(0, 'patch-features');
  const trainSize = num(params, 'train_size');
  const { model: descriptor } = fitPatchDescriptors(good, {
    patchWidth, patchHeight, step, random, samplePatches: Math.max(trainSize, DESCRIPTOR_PATCHES), logMagnitudes: true,
    checkAbort: () => checkAborted(context.signal),
  });
  const dims = descriptor.dims;
  const { data, count } = systematicSample(descriptor, good, Math.min(trainSize, SVM_POINTS), random, context.signal);
  checkAborted(context.signal);
  context.onProgress(0.3, 'solving-svm');
  // ν is nu_max, not contamination: at the contract's 0.01 the boundary hugged whichever rare patches the
  // sample held (cookies 0.786–0.955 over seeds); at 0.1 it is far steadier.
  const nu = Math.min(1, Math.max(num(params, 'nu_max'), MIN_SUPPORT_VECTORS / count));
  const svm = fitOneClassSvm(data, dims, {
    nu, checkAbort: () => checkAborted(context.signal),
    onProgress: (f) => context.onProgress(0.3 + 0.6 * f, 'solving-svm'),
  });
  checkAborted(context.signal);
  context.onProgress(0.9, 'scoring-patches');
  const margin = marginFor(svmLogMargin(svm, data), num(params, 'contamination'));
  context.onProgress(1);
  return { descriptor, svm, margin };
}

/**
 * The map's zero is the SVM's boundary (about ν of the training patches lie outside it) or, when
 * `contamination` is larger than that, the level that share of training patches exceeds; the unit is the
 * spread over training patches. A zero above the boundary (the 99th percentile for 0.01) was measured to
 * cost image AUROC (cookies seed 4: 0.977 → 0.963), so a smaller contamination does not raise it.
 */
function marginFor(trainingMargins: Float32Array, contamination: number): OutlierMargin {
  const fitted = fitOutlierMargin(trainingMargins, contamination);
  return { ...fitted, offset: Math.min(0, fitted.offset) };
}

function compactAnomalyMap(state: OneClassSvmState, raster: Raster): CompactMap {
  const { grid, data } = describePatches(state.descriptor, raster);
  const outside = svmLogMargin(state.svm, data);
  for (let i = 0; i < outside.length; i++) outside[i] = outlierMargin(outside[i], state.margin);
  return compactSmoothedPatchScores(outside, grid);
}

export const oneClassSvmInspection: AlgorithmDefinition<OneClassSvmState> = {
  id: 'OC',
  name: 'Vector Inspection',
  type: 'unsupervised',
  version: 2,
  description: {
    en: 'A one-class SVM (RBF kernel) draws a boundary around the feature vectors of good patches; patches outside it are anomalous.',
    ja: 'ワンクラスSVM（RBFカーネル）が良品パッチの特徴ベクトルを囲む境界を学習し、その外側のパッチを異常とします。',
  },
  learnsFrom: { en: 'OK images and a few NG', ja: 'OK画像と少数のNG画像' },
  parameters: [
    ...sharedParameters(300),
    {
      id: 320, name: 'contamination', type: 'float', default: 0.01, min: 0.0001, max: 0.5,
      autoTune: null, modelParameter: true,
      description: {
        en: 'Share of training patches expected to be outliers: when it exceeds nu_max, the anomaly map starts at the level this share of training patches exceeds instead of at the SVM’s boundary.',
        ja: '外れ値と見込む学習パッチの割合。nu_maxより大きいと、異常マップの基準がSVMの境界からこの割合の学習パッチが超える水準に下がります。',
      },
      effect: { en: 'Above nu_max: more of the map lights up, also on good images. Below it: no effect.', ja: 'nu_maxより大きいと異常マップの反応が広がり、良品でも反応しやすくなります。それ以下では影響しません。' },
    },
    {
      id: 321, name: 'nu_max', type: 'float', default: 0.1, min: 0.001, max: 1, autoTune: null, modelParameter: true,
      description: {
        en: 'The SVM’s ν: at most this share of training patches lies outside its boundary, and at least this share is kept as support vectors.',
        ja: 'SVMのν。境界の外に出る学習パッチの割合の上限で、サポートベクトルとして残る割合の下限でもあります。',
      },
      effect: { en: 'Lower: a smaller, faster model whose boundary follows rare patches more (less steady).', ja: '小さいほどモデルは小さく高速ですが、境界がまれなパッチに引きずられ不安定になります。' },
    },
  ],
  requires: { okImages: 1 },
  maxOkImages: MAX_HELD_TRAINING_IMAGES,
  train,
  anomalyMap: (state, raster) => compactAnomalyMap(state, raster).expand(),
  compactAnomalyMap,
};
