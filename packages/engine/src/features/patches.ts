import type { FloatMap, Raster } from '../image/raster.ts';

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
}

export function patchGrid(imageWidth: number, imageHeight: number, patchWidth: number, patchHeight: number, step: number): PatchGrid {
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
  return { imageWidth, imageHeight, patchWidth: pw, patchHeight: ph, columns: xs.length, rows: ys.length, xs, ys };
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
 */
export function patchScoresToMap(scores: ArrayLike<number>, grid: PatchGrid): FloatMap {
  const { imageWidth: width, imageHeight: height } = grid;
  const sum = new Float32Array(width * height);
  const count = new Float32Array(width * height);
  for (let gy = 0; gy < grid.rows; gy++) {
    for (let gx = 0; gx < grid.columns; gx++) {
      const s = scores[gy * grid.columns + gx];
      const x0 = grid.xs[gx], y0 = grid.ys[gy];
      for (let y = y0; y < y0 + grid.patchHeight; y++) {
        for (let x = x0, i = y * width + x0; x < x0 + grid.patchWidth; x++, i++) {
          sum[i] += s;
          count[i]++;
        }
      }
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i] > 0 ? sum[i] / count[i] : 0;
  return { width, height, data: sum };
}
