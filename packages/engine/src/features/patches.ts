import type { CompactMap, FloatMap, Raster } from '../image/raster.ts';

/**
 * Patches on a regular grid: patch (gx, gy) covers x ∈ [gx·step, gx·step + width), y likewise.
 * The last row and column are moved in so that the grid covers the whole image.
 */
export interface PatchGrid {
  imageWidth: number;
  imageHeight: number;
  patchWidth: number;
  patchHeight: number;
  columns: number;
  rows: number;
  xs: Int32Array;
  ys: Int32Array;
  /**
   * Pixels each patch's context window reaches beyond the patch on every side (clipped at the image): each plane is
   * then pooled over the patch and over that wider window, its context (0 or absent: the patch only).
   */
  contextMargin?: number;
}

export function patchGrid(
  imageWidth: number, imageHeight: number, patchWidth: number, patchHeight: number, step: number, contextMargin = 0,
): PatchGrid {
  const pw = Math.min(patchWidth, imageWidth);
  const ph = Math.min(patchHeight, imageHeight);
  const positions = (size: number, patch: number) => {
    const out: number[] = [];
    for (let p = 0; p + patch <= size; p += step) out.push(p);
    if (out[out.length - 1] !== size - patch) out.push(size - patch);
    return Int32Array.from(out);
  };
  const xs = positions(imageWidth, pw);
  const ys = positions(imageHeight, ph);
  return { imageWidth, imageHeight, patchWidth: pw, patchHeight: ph, columns: xs.length, rows: ys.length, xs, ys, contextMargin };
}

/**
 * Every patch of the grid as a row vector (patchHeight × patchWidth × channels values, row-major):
 * `out[(gy * columns + gx) * dims + k]`.
 */
export function extractPatches(raster: Raster, grid: PatchGrid): { dims: number; data: Float32Array } {
  const { channels, width } = raster;
  const dims = grid.patchWidth * grid.patchHeight * channels;
  const data = new Float32Array(grid.columns * grid.rows * dims);
  let o = 0;
  for (let gy = 0; gy < grid.rows; gy++) {
    for (let gx = 0; gx < grid.columns; gx++) {
      const x0 = grid.xs[gx], y0 = grid.ys[gy];
      for (let y = 0; y < grid.patchHeight; y++) {
        const start = ((y0 + y) * width + x0) * channels;
        const row = raster.data.subarray(start, start + grid.patchWidth * channels);
        data.set(row, o);
        o += row.length;
      }
    }
  }
  return { dims, data };
}

/**
 * Spreads one score per patch back to pixels: each pixel gets the mean score of the patches covering it.
 * The patches covering a pixel are a range of grid columns times a range of grid rows, so the mean is
 * taken separably: along each grid row first, then down the columns.
 */
export function patchScoresToMap(scores: ArrayLike<number>, grid: PatchGrid, into?: Float32Array): FloatMap {
  const { imageWidth: width, imageHeight: height, columns, rows } = grid;
  const xFirst = coveringFrom(grid.xs, grid.patchWidth, width);
  const yFirst = coveringFrom(grid.ys, grid.patchHeight, height);
  // Per grid row and pixel column: the sum of the scores of the patches of that row covering the column.
  const rowSums = rowSumsScratch(rows * width);
  for (let gy = 0; gy < rows; gy++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let gx = xFirst.first[x]; gx < xFirst.end[x]; gx++) sum += scores[gy * columns + gx];
      rowSums[gy * width + x] = sum;
    }
  }
  const out = into ? into.subarray(0, width * height) : new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const first = yFirst.first[y], end = yFirst.end[y];
    for (let x = 0; x < width; x++) {
      const count = (end - first) * (xFirst.end[x] - xFirst.first[x]);
      if (count === 0) {
        out[y * width + x] = 0;
        continue;
      }
      let sum = 0;
      for (let gy = first; gy < end; gy++) sum += rowSums[gy * width + x];
      out[y * width + x] = sum / count;
    }
  }
  return { width, height, data: out };
}

/**
 * The map `patchScoresToMap` makes, kept as its patch scores until it is read: one value per patch, a sixteenth of the
 * pixels at a step of 4. The scores are held, not copied: never write into them afterwards.
 */
export function compactPatchScores(scores: Float32Array, grid: PatchGrid): CompactMap {
  return {
    width: grid.imageWidth, height: grid.imageHeight, expand: (into) => patchScoresToMap(scores, grid, into),
    portable: { kind: 'patch-scores', scores, grid },
  };
}

/**
 * One buffer for `patchScoresToMap`'s row sums, grown when needed: calibration expands hundreds of held-out maps in a
 * row, and a fresh buffer for each left the allocator with that much more garbage. Every value read is written first.
 */
let rowSumsBuffer = new Float64Array(0);
function rowSumsScratch(length: number): Float64Array {
  if (rowSumsBuffer.length < length) rowSumsBuffer = new Float64Array(length);
  return rowSumsBuffer;
}

/** For each pixel along one axis: the range [first, end) of patch positions (sorted) whose patch covers it. */
function coveringFrom(starts: Int32Array, size: number, length: number): { first: Int32Array; end: Int32Array } {
  const first = new Int32Array(length), end = new Int32Array(length);
  let lo = 0, hi = 0;
  for (let p = 0; p < length; p++) {
    while (lo < starts.length && starts[lo] + size <= p) lo++;
    while (hi < starts.length && starts[hi] <= p) hi++;
    first[p] = lo;
    end[p] = Math.max(lo, hi);
  }
  return { first, end };
}
