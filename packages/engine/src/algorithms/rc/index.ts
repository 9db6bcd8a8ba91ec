import type { FloatMap, Raster } from '../../image/raster.ts';
import { NmfEncoder, nmf } from '../../kernels/nmf.ts';
import { Random } from '../../kernels/random.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, str, type ParamValues, type ParameterSpec } from '../../params/schema.ts';
import { checkAborted, type AlgorithmDefinition, type TrainContext, type TrainingSample } from '../types.ts';
import type { PatchVectorOptions } from './patch-vectors.ts';
import { pcaBasis, pcaReconstructionErrors } from './pca-basis.ts';
import { reconstructionAnomalyMap, robustErrorScale, samplePatchVectors } from './reconstruction-scores.ts';

/**
 * RC — Reconstructor Inspection (sparse modelling): a dictionary of patch atoms is learned from OK images
 * by non-negative matrix factorisation; every patch of a new image is rebuilt from a few atoms and what
 * cannot be rebuilt (the reconstruction error) is the anomaly. A PCA basis is offered as a cheaper,
 * signed alternative.
 */
export interface ReconstructorState {
  [key: string]: Float32Array | number | string | boolean;
  method: string;
  components: number;
  dims: number;
  /** NMF: the k × d dictionary. PCA: the k × d orthonormal basis. */
  basis: Float32Array;
  /** PCA only: the mean patch (empty for NMF). */
  mean: Float32Array;
  /** Robust level and spread of OK patches' reconstruction errors (median, 1.4826·MAD). */
  errorMedian: number;
  errorSpread: number;
  /** L1 weight on the codes (absolute), the same in training and scoring. */
  sparsity: number;
  normalisation: string;
  splitSigns: boolean;
}

/**
 * L1 weight on the NMF codes, as a fraction of the mean norm of a training vector. Non-negativity alone
 * already gives sparse, parts-based codes; an explicit penalty did not help on cookies (10 atoms, image /
 * pixel AUROC: 0 → 0.952 / 0.924, 0.02 → 0.945 / 0.925, 0.1 → 0.882 / 0.922), so it is off.
 */
const SPARSITY = 0;
/** Fraction of sampled patches held out of the dictionary fit to measure the OK error spread honestly. */
const SPREAD_HOLDOUT = 0.2;
/**
 * Raw colour patches: measured on cookies (image / pixel AUROC, 10 atoms) raw 0.912 / 0.791, per-image
 * MAD-standardised 0.748 / 0.768, patch-centred 0.625 / 0.776 — defects there change colour and
 * brightness, which centring throws away. (Figures before the pooling blur below.)
 */
const RC_VECTOR_OPTIONS: PatchVectorOptions = { normalisation: 'raw', splitSigns: false };

const parameters: ParameterSpec[] = [
  ...sharedParameters(100),
  {
    id: 120, name: 'n_components', type: 'int', default: 10, min: 1, max: 200, autoTune: [3, 5, 10, 20, 30], modelParameter: true,
    description: { en: 'Number of dictionary atoms (NMF) or principal components (PCA) that rebuild each patch.', ja: '各パッチを再構成する辞書の基底数（NMF）または主成分数（PCA）。' },
    effect: { en: 'More: finer reconstructions (fewer false alarms, but defects may be rebuilt too), slower.', ja: '多いほど再構成が細かく（誤検出減、ただし欠陥も再構成されやすい）、遅くなります。' },
  },
  {
    id: 121, name: 'max_iter', type: 'int', default: 10, min: 1, max: 1000, autoTune: null, modelParameter: true,
    description: { en: 'Iterations of the dictionary learning (NMF, HALS updates).', ja: '辞書学習（NMF、HALS更新）の反復回数。' },
    effect: { en: 'More: a better-fitting dictionary, longer training.', ja: '多いほど辞書の当てはまりが良くなり、学習が長くなります。' },
  },
  {
    id: 122, name: 'reconstruct_thresh', type: 'float', default: 2.0, min: 0, max: 100, autoTune: [1, 2, 3], modelParameter: true,
    description: {
      en: 'Noise level of the reconstruction error, in robust standard deviations (1.4826·MAD) of OK patches\' errors above their median: a patch whose error lies below it scores 0; above it, its score is the excess.',
      ja: '再構成誤差のノイズ水準（OKパッチの誤差の中央値からの頑健な標準偏差 1.4826·MAD の倍数）。これ未満の誤差のパッチは0点、超えた分がスコアになります。',
    },
    effect: { en: 'Higher: fewer, stronger detections; lower: more sensitive.', ja: '高いほど検出は少なく確かに、低いほど敏感になります。' },
  },
  {
    id: 123, name: 'detected_area_thresh', type: 'float', default: 0.1, min: 0, max: 1, autoTune: [0.1, 0.5], modelParameter: false,
    description: { en: 'Smallest anomalous region kept, as a fraction of the patch area (min_inspection_size).', ja: '残す異常領域の最小面積（パッチ面積 min_inspection_size に対する割合）。' },
    effect: { en: 'Higher: ignores specks smaller than that part of a patch.', ja: '高いほどパッチのその割合より小さな点を無視します。' },
  },
  {
    id: 124, name: 'reconstruct_algorithm_name', type: 'str', default: 'nmf', options: ['nmf', 'pca'], autoTune: null, modelParameter: true,
    description: { en: 'How the patch dictionary is learned: nmf (non-negative, parts-based atoms) or pca (principal components, faster).', ja: 'パッチ辞書の学習方法：nmf（非負・部分的な基底）または pca（主成分、高速）。' },
  },
];

function reconstructionErrors(state: ReconstructorState, X: Float32Array, n: number): Float32Array {
  const errors = state.method === 'pca'
    ? pcaReconstructionErrors(X, n, state.dims, state.mean, state.basis, state.components)
    : new NmfEncoder(state.basis, state.components, state.dims, state.sparsity).reconstructionErrors(X, n);
  // Residual norms rather than squares: less heavy-tailed, so the robust spread describes them better.
  for (let i = 0; i < n; i++) errors[i] = Math.sqrt(errors[i]);
  return errors;
}

/**
 * The learned state depends only on the OK rasters and the model-shaping parameters, not on
 * `reconstruct_thresh` or `detected_area_thresh`. AutoTune and cross-fitting retrain on the very same
 * samples for each candidate of those two, so identical trainings are reused (training is deterministic,
 * and states are never mutated after training). Held weakly: entries go with the samples.
 */
const TRAINING_KEYS = ['train_size', 'min_inspection_size', 'min_inspection_step', 'seed', 'n_components', 'max_iter', 'reconstruct_algorithm_name'];
const trainedStates = new WeakMap<TrainingSample, { samples: TrainingSample[]; key: string; state: ReconstructorState }[]>();

async function train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<ReconstructorState> {
  const ok = samples.filter((s) => s.good === true);
  const key = JSON.stringify(TRAINING_KEYS.map((name) => params[name]));
  const known = trainedStates.get(ok[0]) ?? [];
  const same = known.find((entry) => entry.key === key && entry.samples.length === ok.length && entry.samples.every((s, i) => s === ok[i]));
  if (same) {
    context.onProgress(1);
    return same.state;
  }
  const state = await trainFresh(samples, params, context);
  known.push({ samples: ok, key, state });
  trainedStates.set(ok[0], known);
  return state;
}

async function trainFresh(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<ReconstructorState> {
  const ok = samples.filter((s) => s.good === true);
  const random = new Random(num(params, 'seed'));
  const method = str(params, 'reconstruct_algorithm_name');
  const options = RC_VECTOR_OPTIONS;
  context.onProgress(0, 'sampling-patches');
  const { data, n, d } = await samplePatchVectors(ok, params, options, random, context.signal);
  const held = n > 10 ? Math.max(1, Math.floor(n * SPREAD_HOLDOUT)) : 0;
  const fitRows = n - held;
  const fitData = data.subarray(0, fitRows * d);
  const k = Math.min(num(params, 'n_components'), fitRows, d);
  const iterations = num(params, 'max_iter');
  let basis: Float32Array;
  let mean: Float32Array = new Float32Array(0);
  let sparsity = 0;
  if (method === 'pca') {
    const pca = pcaBasis(fitData, fitRows, d, k, num(params, 'seed'));
    basis = pca.basis;
    mean = pca.mean;
  } else {
    let norms = 0;
    for (let i = 0; i < fitRows; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += fitData[i * d + t] ** 2;
      norms += Math.sqrt(s);
    }
    sparsity = (SPARSITY * norms) / Math.max(1, fitRows);
    const result = nmf(fitData, fitRows, d, {
      components: k, iterations, solver: 'hals', seed: num(params, 'seed'), sparsity,
      onIteration: (i) => { checkAborted(context.signal); context.onProgress((i + 1) / (iterations + 1), 'learning-dictionary'); },
    });
    basis = result.dictionary;
  }
  const state: ReconstructorState = {
    method, components: k, dims: d, basis, mean, errorMedian: 0, errorSpread: 1, sparsity,
    normalisation: options.normalisation, splitSigns: options.splitSigns,
  };
  const spreadRows = held > 0 ? data.subarray(fitRows * d) : fitData;
  const scale = robustErrorScale(reconstructionErrors(state, spreadRows, held > 0 ? held : fitRows));
  state.errorMedian = scale.median;
  state.errorSpread = scale.spread;
  context.onProgress(1);
  return state;
}

function anomalyMap(state: ReconstructorState, raster: Raster, params: ParamValues): FloatMap {
  const options: PatchVectorOptions = { normalisation: state.normalisation as PatchVectorOptions['normalisation'], splitSigns: state.splitSigns };
  return reconstructionAnomalyMap(raster, params, options, { median: state.errorMedian, spread: state.errorSpread },
    (rows, count) => reconstructionErrors(state, rows, count));
}

export const reconstructorInspection: AlgorithmDefinition<ReconstructorState> = {
  id: 'RC',
  name: 'Reconstructor Inspection',
  type: 'unsupervised',
  version: 1,
  description: {
    en: 'Sparse modelling: learns a dictionary of patch patterns from OK images (non-negative matrix factorisation) and flags patches the dictionary cannot rebuild.',
    ja: 'スパースモデリング：OK画像からパッチの辞書を非負値行列因子分解で学習し、辞書で再構成できないパッチを異常とします。',
  },
  learnsFrom: { en: 'OK images only', ja: 'OK画像のみ' },
  parameters,
  requires: { okImages: 1 },
  train,
  anomalyMap,
};
