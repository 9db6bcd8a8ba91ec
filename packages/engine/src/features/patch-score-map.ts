import type { CompactMap, FloatMap } from '../image/raster.ts';
import { gaussianBlur } from '../postprocess/filters.ts';
import { patchScoresToMap, type PatchGrid } from './patches.ts';

/**
 * One score per patch → an anomaly map, smoothed over about a patch: a defect spans many neighbouring
 * patches, while a stray odd patch of a good image (or one noisy vote) does not. Used by OC, IF and RF.
 */
export function smoothedPatchScoreMap(scores: ArrayLike<number>, grid: PatchGrid): FloatMap {
  return gaussianBlur(patchScoresToMap(scores, grid), (grid.patchWidth + grid.patchHeight) / 2);
}

/** The same map kept as its patch scores until it is read (an algorithm's `compactAnomalyMap`). Never write into the scores afterwards. */
export function compactSmoothedPatchScores(scores: Float32Array, grid: PatchGrid): CompactMap {
  return {
    width: grid.imageWidth, height: grid.imageHeight, expand: () => smoothedPatchScoreMap(scores, grid),
    portable: { kind: 'smoothed-patch-scores', scores, grid },
  };
}
