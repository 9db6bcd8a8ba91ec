import { buildKnnIndex, KnnSearcher } from '../../kernels/knn.ts';

/** Which patch of its own image a patch is compared with: the `rank`-th nearest outside ±`window` grid steps. */
export interface SelfMatch { rank: number; window: number }

/**
 * Each patch's squared distance to the `rank`-th nearest patch of the same image outside ±`window` grid steps (nearer
 * ones overlap it), found by a k-d tree of the image's descriptors (`data`, `dims` values per patch, `columns` per grid
 * row); Infinity where the image has too few patches.
 */
export function ownImageDistances(data: Float32Array, dims: number, columns: number, { rank, window }: SelfMatch): Float64Array {
  const count = data.length / dims;
  const out = new Float64Array(count).fill(Infinity);
  if (count < 2) return out;
  const searcher = new KnnSearcher(buildKnnIndex(data, dims), rank);
  let px = 0, py = 0;
  searcher.skip = (id) => Math.abs((id % columns) - px) <= window && Math.abs(Math.floor(id / columns) - py) <= window;
  for (let p = 0; p < count; p++) {
    px = p % columns;
    py = Math.floor(p / columns);
    searcher.search(data, p * dims);
    out[p] = searcher.best[rank - 1];
  }
  return out;
}

/**
 * Lowers each patch's score where its own image explains it better than the bank: where the patch's own-image match
 * (`ownImageDistances`) lies nearer than the bank's nearest point (`bankDistances`, squared), the score is scaled by the
 * ratio of the two distances, as if that patch were the match (the same radius divides both). Structure that good
 * images share with no other image (one board region's pads and traces) is then measured against its repeats in the
 * image, while a lone defect has none. A defect that repeats itself (a long crack, a large uneven region, many
 * blowholes) is lowered as well: that is why this is an option.
 */
export function selfMatchedScores(
  scores: Float32Array, bankDistances: Float32Array, data: Float32Array, dims: number, columns: number, selfMatch: SelfMatch,
): void {
  const own = ownImageDistances(data, dims, columns, selfMatch);
  for (let p = 0; p < own.length; p++) if (own[p] < bankDistances[p]) scores[p] *= Math.sqrt(own[p] / bankDistances[p]);
}
