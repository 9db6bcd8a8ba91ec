import { filterBank, lightnessPyramid, patchMajor, poolByFeature, poolOnGrid, poolPasses, poolWindows, type FilterBankOptions } from '../../features/filter-bank.ts';
import { learnedFilterPlanesAt, learnedGridSize } from '../../features/learned-filters.ts';
import { patchGrid, type PatchGrid } from '../../features/patches.ts';
import type { Raster } from '../../image/raster.ts';
import { centredProducts } from '../../kernels/matrix.ts';

/**
 * Patch descriptors of PS: the rotation-invariant filter bank pooled over each patch of a grid,
 * standardised with the training set's statistics, plus two position coordinates scaled by a weight that
 * says how much position matters for this product (0 where parts move freely).
 */
export interface DescriptorSettings extends FilterBankOptions {
  patchWidth: number;
  patchHeight: number;
  step: number;
  /** Each plane also pooled over a window this many pixels wider on every side (`PatchGrid.contextMargin`). */
  contextMargin?: number;
}

/** The patch grid of a raster under these settings. */
export function descriptorGrid(raster: Pick<Raster, 'width' | 'height'>, settings: DescriptorSettings): PatchGrid {
  return patchGrid(raster.width, raster.height, settings.patchWidth, settings.patchHeight, settings.step, settings.contextMargin ?? 0);
}

export interface RawDescriptors {
  grid: PatchGrid;
  dims: number;
  /** patches × dims, grid row-major. */
  data: Float32Array;
}

export function rawDescriptors(raster: Raster, settings: DescriptorSettings): RawDescriptors {
  const grid = descriptorGrid(raster, settings);
  const { dims, data } = poolOnGrid(filterBank(raster, settings), grid);
  return { grid, dims, data };
}

/**
 * `rawDescriptors` with the pooled planes of the learned filters (its last columns) apart, feature-major
 * (`learnedColumns`): given, they are used instead of computed (the same numbers, when they were computed for the same
 * raster and settings), since they cost most of the filter bank; otherwise they are computed and returned to be kept.
 */
export function rawDescriptorsReusing(
  raster: Raster, settings: DescriptorSettings, learnedColumns: Float32Array | null,
): RawDescriptors & { learnedColumns: Float32Array } {
  const grid = descriptorGrid(raster, settings);
  const patches = grid.columns * grid.rows;
  if (learnedColumns) {
    const own = poolByFeature(filterBank(raster, { ...settings, learned: [], discriminators: [] }), grid);
    const byFeature = new Float32Array(own.byFeature.length + learnedColumns.length);
    byFeature.set(own.byFeature);
    byFeature.set(learnedColumns, own.byFeature.length);
    const dims = own.dims + learnedColumns.length / patches;
    return { grid, dims, data: patchMajor(byFeature, patches, dims), learnedColumns };
  }
  const levels = filterBank(raster, settings);
  // The learned filters' and the discriminators' levels come last (see `filterBank`), one per set of filters or network.
  const learnedLevels = (settings.learned?.length ?? 0) + (settings.discriminators?.length ?? 0);
  const learnedDims = levels.slice(levels.length - learnedLevels).reduce((sum, level) => sum + level.planes.length, 0) * poolPasses(grid).length;
  const { dims, byFeature } = poolByFeature(levels, grid);
  return { grid, dims, data: patchMajor(byFeature, patches, dims), learnedColumns: byFeature.slice((dims - learnedDims) * patches) };
}

/**
 * `rawDescriptors` of the listed patches (indices in the grid's row-major order): the rows of the others are left with
 * zeros in the learned filters' columns. The learned filters' planes, the dearest part, are computed only at the pixels
 * those patches are pooled over, and pooled over each window directly. A window's sum is then taken in another order
 * than `poolByFeature`'s running sums, the same float64 number whenever those sums are exact (float32 values, each
 * float64 sum holding every bit of them: true unless a plane mixes values some 2⁻³⁰ times smaller than its sums); the
 * model digest of the training profiles checks it. Null where not supported (discriminators, second layers).
 */
export function rawDescriptorsOfPatches(raster: Raster, settings: DescriptorSettings, wanted: Int32Array): RawDescriptors | null {
  const learned = settings.learned ?? [];
  if ((settings.discriminators?.length ?? 0) > 0 || learned.some((filters) => filters.secondCount > 0)) return null;
  const grid = descriptorGrid(raster, settings);
  const patches = grid.columns * grid.rows;
  // The order `filterBank` gives the learned filters' levels in: by pyramid level, then as listed.
  const ordered = [...learned.keys()].sort((a, b) => learned[a].level - learned[b].level || a - b).map((i) => learned[i]);
  const pyramid = ordered.length ? lightnessPyramid(raster, settings, ordered[ordered.length - 1].level + 1) : [];
  const columns: Float32Array[] = [];
  for (const filters of ordered) {
    const lightness = pyramid[filters.level];
    const { width, height } = learnedGridSize(lightness.width, lightness.height);
    const level = { width, height, scale: 2 ** (filters.level + 1) };
    // The widest windows (the context's, where pooled with it) hold the others: their pixels are the ones needed.
    const passes = poolPasses(grid);
    const widest = poolWindows(level, grid, passes[passes.length - 1]);
    const needed = new Uint8Array(width * height);
    for (const patch of wanted) {
      const gx = patch % grid.columns, gy = (patch - gx) / grid.columns;
      for (let y = widest.y0s[gy]; y < widest.y1s[gy]; y++) needed.fill(1, y * width + widest.x0s[gx], y * width + widest.x1s[gx]);
    }
    const { planes } = learnedFilterPlanesAt(lightness, filters, needed)!;
    // In `poolByFeature`'s order: the level's planes over the patches, then over their context windows.
    for (const margin of passes) {
      const { x0s, x1s, y0s, y1s } = poolWindows(level, grid, margin);
      for (const plane of planes) {
        const column = new Float32Array(patches);
        for (const patch of wanted) {
          const gx = patch % grid.columns, gy = (patch - gx) / grid.columns;
          column[patch] = windowMean(plane, width, x0s[gx], x1s[gx], y0s[gy], y1s[gy]);
        }
        columns.push(column);
      }
    }
  }
  const learnedColumns = new Float32Array(columns.length * patches);
  columns.forEach((column, f) => learnedColumns.set(column, f * patches));
  return rawDescriptorsReusing(raster, settings, learnedColumns);
}

/** The mean of a plane over columns [x0, x1) and rows [y0, y1), summed row by row. */
function windowMean(plane: Float32Array, width: number, x0: number, x1: number, y0: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) {
    let row = 0;
    for (let i = y * width + x0, end = y * width + x1; i < end; i++) row += plane[i];
    sum += row;
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

/** Patch centres as fractions of the raster's width and height, two per patch. */
export function patchCentres(grid: PatchGrid): Float32Array {
  const out = new Float32Array(grid.columns * grid.rows * 2);
  for (let gy = 0, p = 0; gy < grid.rows; gy++) {
    for (let gx = 0; gx < grid.columns; gx++, p++) {
      out[2 * p] = (grid.xs[gx] + grid.patchWidth / 2) / grid.imageWidth;
      out[2 * p + 1] = (grid.ys[gy] + grid.patchHeight / 2) / grid.imageHeight;
    }
  }
  return out;
}

/** Per-feature mean and standard deviation over rows of `dims` values. */
export function featureStatistics(data: Float32Array, dims: number): { mean: Float32Array; scale: Float32Array } {
  const n = data.length / dims;
  const sum = new Float64Array(dims), sumSq = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dims; j++) {
      const v = data[i * dims + j];
      sum[j] += v;
      sumSq[j] += v * v;
    }
  }
  const mean = new Float32Array(dims), scale = new Float32Array(dims);
  for (let j = 0; j < dims; j++) {
    mean[j] = sum[j] / n;
    const variance = Math.max(0, sumSq[j] / n - mean[j] * mean[j]);
    scale[j] = 1 / Math.max(Math.sqrt(variance), 1e-6);
  }
  return { mean, scale };
}

/**
 * The affine map from raw filter-bank features to descriptor coordinates: standardisation followed by the
 * principal components of the standardised training features (a rotation when all are kept, so distances
 * are unchanged; the leading coordinates carry most of the distance, which makes the search stop early).
 */
export interface Projection {
  [key: string]: Float32Array | number;
  rawDims: number;
  /** Coordinates kept. */
  keep: number;
  /** Subtracted from each raw feature. */
  offset: Float32Array;
  /** keep × rawDims. */
  matrix: Float32Array;
}

export function makeProjection(
  mean: Float32Array, scale: Float32Array, pca: { mean: Float32Array; components: Float32Array }, keep: number,
): Projection {
  const rawDims = mean.length;
  const offset = new Float32Array(rawDims);
  for (let j = 0; j < rawDims; j++) offset[j] = mean[j] + pca.mean[j] / scale[j];
  const matrix = new Float32Array(keep * rawDims);
  for (let c = 0; c < keep; c++) for (let j = 0; j < rawDims; j++) matrix[c * rawDims + j] = pca.components[c * rawDims + j] * scale[j];
  return { rawDims, keep, offset, matrix };
}

/**
 * Final descriptors: (when `positionWeight` > 0) the patch centre times the weight, so that a patch is
 * compared mostly with patches from the same place, then the projected features.
 */
/** Length of a finished descriptor: the two position coordinates when position counts, then the kept components. */
export function finishedDims(projection: Projection, positionWeight: number): number {
  return (positionWeight > 0 ? 2 : 0) + projection.keep;
}

export function finishDescriptors(raw: RawDescriptors, projection: Projection, positionWeight: number): { dims: number; data: Float32Array } {
  return { dims: finishedDims(projection, positionWeight), data: finishRows(raw.data, positionWeight > 0 ? patchCentres(raw.grid) : null, projection, positionWeight) };
}

/** Finished descriptors of raw rows (`projection.rawDims` values each) whose patch centres are `centres` (two per row). */
export function finishRows(rows: Float32Array, centres: Float32Array | null, projection: Projection, positionWeight: number): Float32Array {
  const { rawDims, keep, offset, matrix } = projection;
  const n = rows.length / rawDims;
  const dims = finishedDims(projection, positionWeight);
  const lead = dims - keep;
  const out = new Float32Array(n * dims);
  if (lead && centres) {
    for (let i = 0; i < n; i++) {
      out[i * dims] = centres[2 * i] * positionWeight;
      out[i * dims + 1] = centres[2 * i + 1] * positionWeight;
    }
  }
  centredProducts(rows, n, rawDims, offset, matrix, keep, out, dims, lead);
  return out;
}
