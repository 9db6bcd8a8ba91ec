import type { FloatMap, Raster } from '../../image/raster.ts';
import { patchGrid, patchScoresToMap, type PatchGrid } from '../../features/patches.ts';
import { quantile } from '../../calibration/quantile.ts';
import type { Random } from '../../kernels/random.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { num, pair, type ParamValues } from '../../params/schema.ts';
import { checkAborted, type TrainingSample } from '../types.ts';
import { patchVectors, type PatchVectorOptions } from './patch-vectors.ts';

/**
 * What reconstruction models (RC, AE) share: sampling training patches, the robust scale of OK patches'
 * errors, and turning per-patch errors into an anomaly map with `reconstruct_thresh` as the noise level.
 */

/** Patch vectors of every training image, `perImage` of them drawn at random from each, reading one image at a time. */
export async function samplePatchVectors(samples: TrainingSample[], params: ParamValues, options: PatchVectorOptions, random: Random, signal?: AbortSignal): Promise<{ data: Float32Array; n: number; d: number }> {
  const [pw, ph] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const perImage = Math.max(1, Math.ceil(num(params, 'train_size') / samples.length));
  const chunks: Float32Array[] = [];
  let d = 0;
  for (const sample of samples) {
    checkAborted(signal);
    const raster = await sample.load();
    const grid = patchGrid(raster.width, raster.height, pw, ph, step);
    const vectors = patchVectors(raster, grid, options);
    d = vectors.dims;
    const picks = random.sample(vectors.count, perImage);
    const chunk = new Float32Array(picks.length * d);
    picks.forEach((p, i) => chunk.set(vectors.data.subarray(p * d, (p + 1) * d), i * d));
    chunks.push(chunk);
  }
  const n = chunks.reduce((s, c) => s + c.length / d, 0);
  const data = new Float32Array(n * d);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  // Shuffle rows so that a held-out tail mixes every image.
  const order = random.shuffle(Array.from({ length: n }, (_, i) => i));
  const shuffled = new Float32Array(n * d);
  order.forEach((from, to) => shuffled.set(data.subarray(from * d, (from + 1) * d), to * d));
  return { data: shuffled, n, d };
}

/** Median and robust spread (1.4826·MAD) of OK patches' reconstruction errors. */
export function robustErrorScale(errors: Float32Array): { median: number; spread: number } {
  const median = quantile(errors, 0.5);
  const deviations = Array.from(errors, (e) => Math.abs(e - median));
  return { median, spread: Math.max(1.4826 * quantile(deviations, 0.5), 1e-6) };
}

/**
 * Patch scores are pooled by a Gaussian of σ = POOLING × the patch size: one patch's error is noisy,
 * a defect raises several neighbours together. Cookies pixel AUROC 0.79 → 0.93 (0.5: 0.89, 2: 0.95),
 * aliens image AUROC 0.51 → 0.63 (2: 0.61).
 */
const POOLING = 1;

/**
 * Per-patch errors → anomaly map: each error in robust standard deviations above the OK median, minus
 * `reconstruct_thresh` (below it: noise, 0), pooled over neighbouring patches and spread back to pixels.
 */
export function errorScoreMap(errors: Float32Array, scale: { median: number; spread: number }, grid: PatchGrid, params: ParamValues): FloatMap {
  const noise = num(params, 'reconstruct_thresh');
  const scores = new Float32Array(errors.length);
  for (let i = 0; i < errors.length; i++) {
    const z = (errors[i] - scale.median) / scale.spread;
    scores[i] = z > noise ? z - noise : 0;
  }
  // Pooled on the patch grid (σ in grid cells), not on pixels: the same smoothing at a fraction of the cost.
  const [pw, ph] = pair(params, 'min_inspection_size');
  const sigma = (POOLING * (pw + ph)) / 2 / num(params, 'min_inspection_step');
  const pooled = gaussianBlur({ width: grid.columns, height: grid.rows, data: scores }, sigma);
  return patchScoresToMap(pooled.data, grid);
}

/**
 * A reconstruction model's anomaly map: the raster's patch vectors on the inspection grid, each patch's
 * reconstruction error (`errorsOf`, the model's own part), scored against `scale` and pooled.
 */
export function reconstructionAnomalyMap(
  raster: Raster,
  params: ParamValues,
  options: PatchVectorOptions,
  scale: { median: number; spread: number },
  errorsOf: (rows: Float32Array, count: number) => Float32Array,
): FloatMap {
  const [pw, ph] = pair(params, 'min_inspection_size');
  const grid = patchGrid(raster.width, raster.height, pw, ph, num(params, 'min_inspection_step'));
  const vectors = patchVectors(raster, grid, options);
  return errorScoreMap(errorsOf(vectors.data, vectors.count), scale, grid, params);
}
