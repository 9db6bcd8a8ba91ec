import { resizeRaster, type FloatMap, type Raster } from '../../image/raster.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { sharedParameters } from '../../params/shared.ts';
import { pair, type ParamValues } from '../../params/schema.ts';
import { checkAborted, type AlgorithmDefinition, type TrainingSample } from '../types.ts';

/**
 * PM — Pattern Matching: a golden image (per-pixel mean and spread of the aligned OK images); a pixel is
 * anomalous by how many spreads it lies from the golden image, smoothed over the inspection window.
 */
interface PatternMatchingState {
  [key: string]: Float32Array | number;
  width: number;
  height: number;
  mean: Float32Array;
  spread: Float32Array;
}

const SPREAD_FLOOR = 0.02;

/** Streams the images: running sums of each pixel and its square, one raster read at a time. */
async function train(samples: TrainingSample[], _params: ParamValues, context: { signal?: AbortSignal; onProgress: (f: number) => void }): Promise<PatternMatchingState> {
  const ok = samples.filter((s) => s.good === true);
  const { width, height, channels } = await ok[0].load();
  const n = width * height * channels;
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  for (let k = 0; k < ok.length; k++) {
    checkAborted(context.signal);
    const r = resizeRaster(await ok[k].load(), width, height).data;
    for (let i = 0; i < n; i++) {
      sum[i] += r[i];
      sumSq[i] += r[i] * r[i];
    }
    context.onProgress((k + 1) / ok.length);
  }
  const mean = new Float32Array(n);
  const spread = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    mean[i] = sum[i] / ok.length;
    spread[i] = Math.sqrt(Math.max(0, sumSq[i] / ok.length - mean[i] * mean[i])) + SPREAD_FLOOR;
  }
  return { width, height, mean, spread };
}

function anomalyMap(state: PatternMatchingState, raster: Raster, params: ParamValues): FloatMap {
  const r = resizeRaster(raster, state.width, state.height);
  const channels = r.channels;
  const out = new Float32Array(state.width * state.height);
  for (let p = 0, i = 0; p < out.length; p++) {
    let m = 0;
    for (let c = 0; c < channels; c++, i++) m = Math.max(m, Math.abs(r.data[i] - state.mean[i]) / state.spread[i]);
    out[p] = m;
  }
  const [pw, ph] = pair(params, 'min_inspection_size');
  return gaussianBlur({ width: state.width, height: state.height, data: out }, Math.max(1, (pw + ph) / 8));
}

export const patternMatching: AlgorithmDefinition<PatternMatchingState> = {
  id: 'PM',
  name: 'Pattern Matching',
  type: 'unsupervised',
  version: 1,
  description: {
    en: 'Builds a golden image (per-pixel mean and spread) from aligned OK images and flags pixels that stray from it.',
    ja: '位置の揃ったOK画像から基準画像（画素ごとの平均とばらつき）を作り、そこから外れる画素を検出します。',
  },
  learnsFrom: { en: 'OK images, aligned, same size', ja: 'OK画像（位置合わせ済み・同一サイズ）' },
  parameters: sharedParameters(600, { min_inspection_size: [16, 16], min_inspection_step: 4 }),
  requires: { okImages: 1 },
  train,
  anomalyMap,
};
