import type { Raster } from '../image/raster.ts';
import type { Random } from '../kernels/random.ts';
import { symmetricEigen } from '../kernels/pca.ts';
import { patchGrid, type PatchGrid } from './patches.ts';
import { positionR2 } from './position-r2.ts';

/**
 * Feature vectors of the patches of a grid, for the vector-space detectors (OC, IF, RF). Per patch:
 * - colour: mean and standard deviation of luminance and two opponent channels (R−G, (R+G)/2−B);
 * - gradient: mean squared magnitude, magnitude in 4 orientation bins (soft-assigned), mean |Laplacian|;
 * - context: luminance mean of the patch minus that of the window three times its size, and that window's
 *   spread (a crack or chip changes its surroundings' contrast);
 * - structure: the first principal components of the patch's grey pixels (mean removed), learned from the
 *   training patches;
 * - position: the patch centre (x, y), weighted by how much of the features' variance position explains in
 *   the training images (aligned products: high; free textures: near zero).
 * Every feature is standardised by the training patches' mean and spread, so distances weigh them alike.
 * Sums over patches come from integral images, so the cost per patch does not grow with its size.
 */
export interface PatchDescriptorModel {
  [key: string]: number | boolean | Float32Array;
  patchWidth: number;
  patchHeight: number;
  step: number;
  /** Colour channels used (1 = grey, 3 = colour). */
  colourChannels: number;
  /** Spreads, gradient energy and Laplacian as logarithms (for distance-based detectors). */
  logMagnitudes: boolean;
  pcaComponents: number;
  /** Mean grey patch (patchWidth × patchHeight), removed before projection. */
  pcaMean: Float32Array;
  /** pcaComponents rows of patchWidth × patchHeight. */
  pcaBasis: Float32Array;
  dims: number;
  center: Float32Array;
  scale: Float32Array;
  /** Multiplier of the standardised position features (0 = position ignored). */
  positionWeight: number;
}

export interface PatchDescriptors {
  grid: PatchGrid;
  dims: number;
  /** Row-major: patch p (= gy · columns + gx) has features data[p·dims … p·dims + dims). */
  data: Float32Array;
}

export interface DescriptorOptions {
  patchWidth: number;
  patchHeight: number;
  step: number;
  random: Random;
  pcaComponents?: number;
  /** Patches sampled to fit PCA, standardisation and the position weight (and returned as training rows). */
  samplePatches?: number;
  /**
   * Take logarithms of the magnitude features. Helps detectors that measure distances (the one-class SVM);
   * the isolation forest did better on the raw values (cookies image AUROC 0.97 → 0.72 at seed 0).
   */
  logMagnitudes?: boolean;
  /** Called once per image; throws to stop (e.g. when training is cancelled). */
  checkAbort?: () => void;
}

const ORIENTATION_BINS = 4;
/** Below this a magnitude is noise (values in [0, 1] units): it keeps log() finite and flat there. */
const MAGNITUDE_FLOOR = 1e-3;
const CONTEXT_FACTOR = 3;
const DEFAULT_PCA_COMPONENTS = 6;
const DEFAULT_SAMPLE_PATCHES = 6000;
/** Cells per side of the coarse position grid on which the position R² is measured. */
const POSITION_CELLS = 6;

/** Planes derived from an image once; patch features are box sums over their integral images. */
interface Planes {
  width: number;
  height: number;
  grey: Float32Array;
  /** Integral images, (width + 1) × (height + 1) each. */
  integrals: Float64Array[];
  colourChannels: number;
  logMagnitudes: boolean;
}

function integral(plane: Float32Array, width: number, height: number): Float64Array {
  const w1 = width + 1;
  const out = new Float64Array(w1 * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += plane[y * width + x];
      out[(y + 1) * w1 + x + 1] = out[y * w1 + x + 1] + row;
    }
  }
  return out;
}

function boxSum(ii: Float64Array, width: number, x0: number, y0: number, x1: number, y1: number): number {
  const w1 = width + 1;
  return ii[y1 * w1 + x1] - ii[y0 * w1 + x1] - ii[y1 * w1 + x0] + ii[y0 * w1 + x0];
}

/**
 * Plane order: L, a, b (colour only), then their squares, gradient energy, 4 orientation bins, |Laplacian|.
 */
function computePlanes(raster: Raster, colourChannels: number, logMagnitudes: boolean): Planes {
  const { width, height, channels, data } = raster;
  const n = width * height;
  const colour: Float32Array[] = [];
  const grey = new Float32Array(n);
  if (colourChannels === 3) {
    const a = new Float32Array(n), b = new Float32Array(n);
    for (let i = 0, p = 0; i < n; i++, p += channels) {
      const r = data[p], g = data[p + 1], bl = data[p + 2];
      grey[i] = 0.299 * r + 0.587 * g + 0.114 * bl;
      a[i] = r - g;
      b[i] = 0.5 * (r + g) - bl;
    }
    colour.push(grey, a, b);
  } else {
    for (let i = 0, p = 0; i < n; i++, p += channels) grey[i] = data[p];
    colour.push(grey);
  }
  const squares = colour.map((plane) => plane.map((v) => v * v));
  const energy = new Float32Array(n);
  const bins = Array.from({ length: ORIENTATION_BINS }, () => new Float32Array(n));
  const laplacian = new Float32Array(n);
  // Grey with a replicated one-pixel border, so the 3×3 stencils need no bounds checks.
  const pw = width + 2;
  const padded = new Float32Array(pw * (height + 2));
  for (let y = -1; y <= height; y++) {
    const sy = Math.min(height - 1, Math.max(0, y));
    for (let x = -1; x <= width; x++) padded[(y + 1) * pw + x + 1] = grey[sy * width + Math.min(width - 1, Math.max(0, x))];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const c = (y + 1) * pw + x + 1;
      const nw = padded[c - pw - 1], n0 = padded[c - pw], ne = padded[c - pw + 1];
      const w0 = padded[c - 1], e0 = padded[c + 1];
      const sw = padded[c + pw - 1], s0 = padded[c + pw], se = padded[c + pw + 1];
      // Sobel.
      const gx = (ne + 2 * e0 + se - nw - 2 * w0 - sw) / 8;
      const gy = (sw + 2 * s0 + se - nw - 2 * n0 - ne) / 8;
      const m2 = gx * gx + gy * gy;
      energy[i] = m2;
      laplacian[i] = Math.abs(n0 + s0 + w0 + e0 - 4 * padded[c]);
      if (m2 === 0) continue;
      const magnitude = Math.sqrt(m2);
      // Unsigned orientation in [0, π), soft-assigned to the two nearest of the bins.
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      const position = (angle / Math.PI) * ORIENTATION_BINS - 0.5;
      const lower = Math.floor(position);
      const fraction = position - lower;
      bins[(lower + ORIENTATION_BINS) % ORIENTATION_BINS][i] += magnitude * (1 - fraction);
      bins[(lower + 1) % ORIENTATION_BINS][i] += magnitude * fraction;
    }
  }
  const planes = [...colour, ...squares, energy, ...bins, laplacian];
  return { width, height, grey, colourChannels, logMagnitudes, integrals: planes.map((p) => integral(p, width, height)) };
}

/** Features before PCA, position and standardisation. */
function handCraftedCount(colourChannels: number): number {
  return 2 * colourChannels + 1 + ORIENTATION_BINS + 1 + 2;
}

function handCrafted(planes: Planes, x0: number, y0: number, pw: number, ph: number, out: Float32Array, offset: number): void {
  const { width, height, integrals, colourChannels: cc } = planes;
  const magnitude = planes.logMagnitudes ? logMagnitude : (v: number) => v;
  const x1 = x0 + pw, y1 = y0 + ph;
  const area = pw * ph;
  let k = offset;
  for (let c = 0; c < cc; c++) {
    const mean = boxSum(integrals[c], width, x0, y0, x1, y1) / area;
    const meanSq = boxSum(integrals[cc + c], width, x0, y0, x1, y1) / area;
    out[k++] = mean;
    out[k++] = magnitude(Math.sqrt(Math.max(0, meanSq - mean * mean)));
  }
  for (let j = 0; j < 1 + ORIENTATION_BINS + 1; j++) out[k++] = magnitude(boxSum(integrals[2 * cc + j], width, x0, y0, x1, y1) / area);
  // Context window, centred on the patch and clipped to the image.
  const cx0 = Math.max(0, Math.round(x0 + pw / 2 - (pw * CONTEXT_FACTOR) / 2));
  const cy0 = Math.max(0, Math.round(y0 + ph / 2 - (ph * CONTEXT_FACTOR) / 2));
  const cx1 = Math.min(width, cx0 + pw * CONTEXT_FACTOR);
  const cy1 = Math.min(height, cy0 + ph * CONTEXT_FACTOR);
  const contextArea = (cx1 - cx0) * (cy1 - cy0);
  const contextMean = boxSum(integrals[0], width, cx0, cy0, cx1, cy1) / contextArea;
  const contextMeanSq = boxSum(integrals[cc], width, cx0, cy0, cx1, cy1) / contextArea;
  out[k++] = out[offset] - contextMean;
  out[k++] = magnitude(Math.sqrt(Math.max(0, contextMeanSq - contextMean * contextMean)));
}

/**
 * Magnitudes (spreads, gradient energy, Laplacian) are skewed: a few strong edges of good images would sit
 * many standard deviations out. Their logarithm is closer to symmetric, so distances treat them evenly.
 */
function logMagnitude(value: number): number {
  return Math.log(value + MAGNITUDE_FLOOR);
}

/** Grey pixels of a patch with the patch's own mean removed (what PCA sees). */
function greyPatch(planes: Planes, x0: number, y0: number, pw: number, ph: number, out: Float32Array): void {
  let sum = 0;
  for (let y = 0, k = 0; y < ph; y++) {
    const row = (y0 + y) * planes.width + x0;
    for (let x = 0; x < pw; x++, k++) {
      out[k] = planes.grey[row + x];
      sum += out[k];
    }
  }
  const mean = sum / (pw * ph);
  for (let k = 0; k < pw * ph; k++) out[k] -= mean;
}

/** PCA projection of one grey patch (mean removed) into `out` at `offset`. */
function project(pixels: Float32Array, pca: Pca, out: Float32Array, offset: number): void {
  const size = pixels.length;
  for (let c = 0; c < pca.components; c++) {
    let dot = 0;
    const row = c * size;
    for (let k = 0; k < size; k++) dot += (pixels[k] - pca.mean[k]) * pca.basis[row + k];
    out[offset + c] = dot;
  }
}

interface Pca {
  components: number;
  mean: Float32Array;
  basis: Float32Array;
}

/**
 * Raw (unstandardised) features of the chosen patches of a grid (all of them by default); the position
 * features are the patch centre in [0, 1]. With `greyOut`, also each patch's mean-removed grey pixels.
 */
function rawFeatures(
  raster: Raster, grid: PatchGrid, colourChannels: number, logMagnitudes: boolean, pca: Pca,
  patches?: ArrayLike<number>, greyOut?: Float32Array,
): { dims: number; data: Float32Array } {
  const planes = computePlanes(raster, colourChannels, logMagnitudes);
  const { patchWidth: pw, patchHeight: ph } = grid;
  const hand = handCraftedCount(colourChannels);
  const dims = hand + pca.components + 2;
  const count = patches ? patches.length : grid.columns * grid.rows;
  const data = new Float32Array(count * dims);
  const size = pw * ph;
  const pixels = new Float32Array(size);
  for (let i = 0; i < count; i++) {
    const p = patches ? patches[i] : i;
    const x0 = grid.xs[p % grid.columns], y0 = grid.ys[Math.floor(p / grid.columns)];
    const o = i * dims;
    handCrafted(planes, x0, y0, pw, ph, data, o);
    if (pca.components > 0 || greyOut) {
      greyPatch(planes, x0, y0, pw, ph, pixels);
      if (pca.components > 0) project(pixels, pca, data, o + hand);
      if (greyOut) greyOut.set(pixels, i * size);
    }
    data[o + dims - 2] = (x0 + pw / 2) / raster.width;
    data[o + dims - 1] = (y0 + ph / 2) / raster.height;
  }
  return { dims, data };
}

function gridOf(raster: Raster, patchWidth: number, patchHeight: number, step: number): PatchGrid {
  return patchGrid(raster.width, raster.height, patchWidth, patchHeight, step);
}

export interface FittedDescriptors {
  model: PatchDescriptorModel;
  /** Standardised descriptors of the sampled training patches, row-major (model.dims per row). */
  rows: Float32Array;
}

/**
 * Fits the descriptor to training images (PCA of grey patches, standardisation, position weight) on
 * `samplePatches` patches drawn evenly from the images, and returns those patches' descriptors too, so
 * that a detector can be fitted on them without describing the images again.
 */
export function fitPatchDescriptors(rasters: Raster[], options: DescriptorOptions): FittedDescriptors {
  const { patchWidth, patchHeight, step, random } = options;
  const logMagnitudes = options.logMagnitudes ?? false;
  const colourChannels = rasters.every((r) => r.channels >= 3) ? 3 : 1;
  const hand = handCraftedCount(colourChannels);
  const perImage = Math.max(1, Math.ceil((options.samplePatches ?? DEFAULT_SAMPLE_PATCHES) / rasters.length));
  const noPca: Pca = { components: 0, mean: new Float32Array(0), basis: new Float32Array(0) };

  // One pass over the images: hand-crafted features and grey pixels of the sampled patches.
  const grids = rasters.map((r) => gridOf(r, patchWidth, patchHeight, step));
  const size = grids[0].patchWidth * grids[0].patchHeight;
  const handRows: Float32Array[] = [];
  const greyRows: Float32Array[] = [];
  rasters.forEach((raster, i) => {
    options.checkAbort?.();
    const g = grids[i];
    const picks = random.sample(g.columns * g.rows, perImage);
    const sameSize = g.patchWidth * g.patchHeight === size;
    const grey = sameSize ? new Float32Array(picks.length * size) : undefined;
    handRows.push(rawFeatures(raster, g, colourChannels, logMagnitudes, noPca, picks, grey).data);
    if (grey) greyRows.push(grey);
  });

  // PCA of the mean-removed grey patches.
  const pcaComponents = Math.min(options.pcaComponents ?? DEFAULT_PCA_COMPONENTS, size);
  const pcaMean = new Float32Array(size);
  let pcaBasis = new Float32Array(0);
  if (pcaComponents > 0) {
    let count = 0;
    for (const block of greyRows) for (let o = 0; o < block.length; o += size, count++) for (let k = 0; k < size; k++) pcaMean[k] += block[o + k];
    for (let k = 0; k < size; k++) pcaMean[k] /= Math.max(1, count);
    const cov = new Float64Array(size * size);
    const centred = new Float64Array(size);
    for (const block of greyRows) {
      for (let o = 0; o < block.length; o += size) {
        for (let k = 0; k < size; k++) centred[k] = block[o + k] - pcaMean[k];
        for (let r = 0; r < size; r++) {
          const cr = centred[r];
          for (let c = r; c < size; c++) cov[r * size + c] += cr * centred[c];
        }
      }
    }
    for (let r = 0; r < size; r++) for (let c = r; c < size; c++) cov[c * size + r] = cov[r * size + c];
    pcaBasis = Float32Array.from(symmetricEigen(cov, size, { maxSweeps: 60 }).vectors.subarray(0, pcaComponents * size));
  }
  const pca: Pca = { components: pcaComponents, mean: pcaMean, basis: pcaBasis };

  // Full raw rows: hand-crafted, PCA projection, position.
  const dims = hand + pcaComponents + 2;
  const total = handRows.reduce((s, block) => s + block.length / (hand + 2), 0);
  const rows = new Float32Array(total * dims);
  let r = 0;
  handRows.forEach((block, b) => {
    const grey = greyRows[b];
    for (let i = 0; i < block.length / (hand + 2); i++, r++) {
      const src = i * (hand + 2), o = r * dims;
      for (let k = 0; k < hand; k++) rows[o + k] = block[src + k];
      if (grey && pcaComponents > 0) project(grey.subarray(i * size, (i + 1) * size), pca, rows, o + hand);
      rows[o + dims - 2] = block[src + hand];
      rows[o + dims - 1] = block[src + hand + 1];
    }
  });

  const center = new Float32Array(dims);
  const scale = new Float32Array(dims);
  for (let k = 0; k < dims; k++) {
    let sum = 0, sumSq = 0;
    for (let o = k; o < rows.length; o += dims) { sum += rows[o]; sumSq += rows[o] * rows[o]; }
    const mean = sum / total;
    const sd = Math.sqrt(Math.max(0, sumSq / total - mean * mean));
    center[k] = mean;
    scale[k] = sd > 1e-6 ? 1 / sd : 1;
  }
  const positionWeight = positionExplainedVariance(rows, dims, center, scale);
  const model: PatchDescriptorModel = { patchWidth, patchHeight, step, colourChannels, logMagnitudes, pcaComponents, pcaMean, pcaBasis, dims, center, scale, positionWeight };
  return { model, rows: standardise(model, rows) };
}

/**
 * R² of the appearance features explained by position (see `positionR2`): how far the product is aligned. Its square
 * root scales the position features.
 */
function positionExplainedVariance(rows: Float32Array, dims: number, center: Float32Array, scale: Float32Array): number {
  const centres = new Float32Array((rows.length / dims) * 2);
  for (let o = 0, i = 0; o < rows.length; o += dims, i += 2) {
    centres[i] = rows[o + dims - 2];
    centres[i + 1] = rows[o + dims - 1];
  }
  return Math.sqrt(positionR2(rows, dims, dims - 2, centres, POSITION_CELLS, { center, scale }));
}

/** Standardised feature vectors of every patch of an image. */
export function describePatches(model: PatchDescriptorModel, raster: Raster): PatchDescriptors {
  const grid = gridOf(raster, model.patchWidth, model.patchHeight, model.step);
  const pca: Pca = { components: model.pcaComponents, mean: model.pcaMean, basis: model.pcaBasis };
  const usable = grid.patchWidth * grid.patchHeight === model.pcaMean.length ? pca : { ...pca, components: 0 };
  const { dims, data } = rawFeatures(raster, grid, model.colourChannels, model.logMagnitudes, usable);
  if (dims !== model.dims) {
    // The image is smaller than a patch of the training images: PCA features are left at the mean.
    const fixed = new Float32Array(grid.columns * grid.rows * model.dims);
    const hand = handCraftedCount(model.colourChannels);
    for (let p = 0; p < grid.columns * grid.rows; p++) {
      for (let k = 0; k < hand; k++) fixed[p * model.dims + k] = data[p * dims + k];
      for (let c = 0; c < model.pcaComponents; c++) fixed[p * model.dims + hand + c] = model.center[hand + c];
      fixed[p * model.dims + model.dims - 2] = data[p * dims + dims - 2];
      fixed[p * model.dims + model.dims - 1] = data[p * dims + dims - 1];
    }
    return { grid, dims: model.dims, data: standardise(model, fixed) };
  }
  return { grid, dims, data: standardise(model, data) };
}

/** Standardises raw rows in place (and weights the position features). */
function standardise(model: PatchDescriptorModel, data: Float32Array): Float32Array {
  const { dims, center, scale, positionWeight } = model;
  for (let o = 0; o < data.length; o += dims) {
    for (let k = 0; k < dims; k++) data[o + k] = (data[o + k] - center[k]) * scale[k];
    data[o + dims - 2] *= positionWeight;
    data[o + dims - 1] *= positionWeight;
  }
  return data;
}
