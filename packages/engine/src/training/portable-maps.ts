import { compactSmoothedPatchScores } from '../features/patch-score-map.ts';
import { compactPatchScores } from '../features/patches.ts';
import type { CompactMap, FloatMap, PortablePatchScores } from '../image/raster.ts';

/** A map as plain data, to cross between threads: a full map, or a compact map's patch scores. */
export type PortableMap = FloatMap | PortablePatchScores;

/** The map as plain data: a compact map without a plain form is expanded (its full size crosses instead). */
export function toPortable(map: FloatMap | CompactMap): PortableMap {
  if ('data' in map) return map;
  return map.portable ?? map.expand();
}

/** The map `toPortable` was given, again (a compact map stays compact). */
export function fromPortable(map: PortableMap): FloatMap | CompactMap {
  if (!('kind' in map)) return map;
  const { scores, grid } = map;
  return map.kind === 'patch-scores' ? compactPatchScores(scores, grid) : compactSmoothedPatchScores(scores, grid);
}
