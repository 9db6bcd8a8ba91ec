import type { FloatMap, Raster } from '../image/raster.ts';
import type { PatchGrid } from './patches.ts';
import { orderStatistic } from '../calibration/quantile.ts';
import { discriminatorPlane, type Discriminator } from './discriminator.ts';
import { learnedFilterPlanes, type LearnedFilters } from './learned-filters.ts';
import { structureResidual, type StructureBasis } from './structure-residual.ts';

/**
 * A multi-scale bank of rotation-invariant filter responses, computed on a Gaussian pyramid (each level
 * half the size of the one before, so coarse scales cost almost nothing) and pooled over the patches of
 * a grid.
 *
 * Every response is isotropic (it does not change when the part turns): smoothed colour, gradient
 * magnitude, the two Hessian eigenvalues (ridges, valleys, blobs: cracks and chips) and local contrast.
 * Colour is taken in an opponent space (lightness, red–green, yellow–blue) so that a change of lightness
 * and a change of hue land in different features.
 */
export interface FilterBankOptions {
  /** Pyramid levels: level k sees structures of about 2^k pixels. Each gives seven planes (L, a, b,
   * gradient, two Hessian eigenvalues, contrast), or five without colour. */
  levels: number;
  /** Levels below this one are computed (the pyramid needs them) but give no features. */
  firstLevel?: number;
  /** Colour planes (red–green, yellow–blue) at each level, besides lightness. */
  colour: boolean;
  /**
   * 'robust': lightness of each image is centred on its own median and scaled by its MAD (exposure varies
   * between shots); 'none' keeps absolute values.
   */
  normalise: 'robust' | 'none';
  /** With 'robust': the median and spread to normalise by instead of the raster's own (a crop is normalised as its whole raster). */
  lightnessCentre?: { centre: number; spread: number };
  /**
   * Filters learned from the good images, by pyramid level (see `structure-residual.ts`): a level with a basis gives
   * one plane more, the structure residual of its lightness.
   */
  structure?: StructureBasis[];
  /**
   * Filters learned by spherical k-means on whitened neighbourhoods (see `learned-filters.ts`), each at its own level:
   * their planes follow every level's, as levels of their own (measured at every other pixel, so of twice the scale).
   */
  learned?: LearnedFilters[];
  /**
   * Networks trained to tell good neighbourhoods from synthetic defects (see `discriminator.ts`), each at its own level:
   * their logit planes follow the learned filters' (measured at every other pixel, so of twice the scale).
   */
  discriminators?: Discriminator[];
}

export interface PyramidLevel {
  /** Size of one level pixel in raster pixels (2^level). */
  scale: number;
  width: number;
  height: number;
  planes: Float32Array[];
}

/**
 * Binomial blur [1 4 6 4 1]/16 along both axes (a Gaussian of σ = 1, the classic pyramid kernel), borders
 * clamped. `out` (same size) may be given to reuse memory; it must not be `map.data`.
 */
export function binomialBlur(map: FloatMap, out: Float32Array = new Float32Array(map.width * map.height)): FloatMap {
  const { width, height, data } = map;
  const tmp = scratch(width * height);
  const last = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // Borders (clamped) apart from the interior, whose loop has no clamping to do.
    for (let x = 0; x < width; x++) {
      if (x === 2 && width > 4) x = width - 2;
      const i = row + x;
      const m2 = row + (x < 2 ? 0 : x - 2), m1 = row + (x < 1 ? 0 : x - 1);
      const p1 = row + (x + 1 > last ? last : x + 1), p2 = row + (x + 2 > last ? last : x + 2);
      tmp[i] = (data[m2] + data[p2] + 4 * (data[m1] + data[p1]) + 6 * data[i]) * 0.0625;
    }
    for (let i = row + 2, end = row + width - 2; i < end; i++) {
      tmp[i] = (data[i - 2] + data[i + 2] + 4 * (data[i - 1] + data[i + 1]) + 6 * data[i]) * 0.0625;
    }
  }
  for (let y = 0; y < height; y++) {
    const m2 = (y < 2 ? 0 : y - 2) * width, m1 = (y < 1 ? 0 : y - 1) * width, c = y * width;
    const p1 = (y + 1 >= height ? height - 1 : y + 1) * width, p2 = (y + 2 >= height ? height - 1 : y + 2) * width;
    for (let x = 0; x < width; x++) {
      out[c + x] = (tmp[m2 + x] + tmp[p2 + x] + 4 * (tmp[m1 + x] + tmp[p1 + x]) + 6 * tmp[c + x]) * 0.0625;
    }
  }
  return { width, height, data: out };
}

/** One scratch buffer for intermediate passes (grown when needed): blurs run one at a time. */
let scratchBuffer = new Float32Array(0);
function scratch(length: number): Float32Array {
  if (scratchBuffer.length < length) scratchBuffer = new Float32Array(length);
  return scratchBuffer;
}

/**
 * Opponent colour planes: L = (R+G+B)/3, a = R−G, b = (R+G)/2 − B. Grey rasters give a = b = 0, and `chroma` false.
 */
export function opponentColour(raster: Raster): { l: FloatMap; a: FloatMap; b: FloatMap; chroma: boolean } {
  const { width, height, channels, data } = raster;
  const n = width * height;
  const l = new Float32Array(n), a = new Float32Array(n), b = new Float32Array(n);
  // Whether any colour value is non-zero (false for a grey image).
  let chroma = false;
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const r = data[p], g = data[p + Math.min(1, channels - 1)], bl = data[p + Math.min(2, channels - 1)];
    l[i] = (r + g + bl) / 3;
    const red = r - g, yellow = (r + g) / 2 - bl;
    a[i] = red;
    b[i] = yellow;
    if (red !== 0 || yellow !== 0) chroma = true;
  }
  return { l: { width, height, data: l }, a: { width, height, data: a }, b: { width, height, data: b }, chroma };
}

/**
 * Median and MAD (scaled to a standard deviation) of a sample of the values (every image of a robust model: found by
 * selection, 6.8 → 0.7 ms on a 491×376 plane, instead of two sorts).
 */
export function robustCentre(values: Float32Array): { centre: number; spread: number } {
  const step = Math.max(1, Math.floor(values.length / 20000));
  const sample = new Float64Array(Math.ceil(values.length / step));
  for (let i = 0, j = 0; i < values.length; i += step, j++) sample[j] = values[i];
  const middle = sample.length >> 1;
  const centre = orderStatistic(sample, middle);
  for (let j = 0; j < sample.length; j++) sample[j] = Math.abs(sample[j] - centre);
  return { centre, spread: Math.max(orderStatistic(sample, middle) * 1.4826, 0.02) };
}

/** Gradient magnitude and Hessian eigenvalues (λ1 ≥ λ2) of a smoothed plane, by central differences. */
export function differentialInvariants(smooth: FloatMap): { gradient: Float32Array; lambda1: Float32Array; lambda2: Float32Array } {
  const { width, height, data } = smooth;
  const n = width * height;
  const gradient = new Float32Array(n), lambda1 = new Float32Array(n), lambda2 = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : 0) * width, down = (y < height - 1 ? y + 1 : height - 1) * width, row = y * width;
    for (let x = 0; x < width; x++) {
      const xm = x > 0 ? x - 1 : 0, xp = x < width - 1 ? x + 1 : width - 1;
      const c = data[row + x];
      const l = data[row + xm], r = data[row + xp];
      const u = data[up + x], d = data[down + x];
      const gx = (r - l) / 2, gy = (d - u) / 2;
      const hxx = r - 2 * c + l, hyy = d - 2 * c + u;
      const hxy = (data[down + xp] - data[down + xm] - data[up + xp] + data[up + xm]) / 4;
      const half = (hxx + hyy) / 2;
      const root = Math.sqrt(((hxx - hyy) / 2) ** 2 + hxy * hxy);
      gradient[row + x] = Math.sqrt(gx * gx + gy * gy);
      lambda1[row + x] = half + root;
      lambda2[row + x] = half - root;
    }
  }
  return { gradient, lambda1, lambda2 };
}

/** Halves a map (2×2 means; an odd last row or column is averaged with itself). */
export function halve(map: FloatMap): FloatMap {
  const width = Math.max(1, Math.ceil(map.width / 2)), height = Math.max(1, Math.ceil(map.height / 2));
  const out = new Float32Array(width * height);
  const w = map.width, h = map.height, src = map.data;
  for (let y = 0; y < height; y++) {
    const y0 = Math.min(2 * y, h - 1), y1 = Math.min(2 * y + 1, h - 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.min(2 * x, w - 1), x1 = Math.min(2 * x + 1, w - 1);
      out[y * width + x] = (src[y0 * w + x0] + src[y0 * w + x1] + src[y1 * w + x0] + src[y1 * w + x1]) / 4;
    }
  }
  return { width, height, data: out };
}

/**
 * The filter bank of one raster: one pyramid level per entry (from `firstLevel`), planes in the order
 * L, a, b, gradient, Hessian λ1 (high on dark lines and spots: cracks, holes), Hessian λ2 (low on bright
 * ones), contrast. Colour planes
 * of level 0 are left unsmoothed: pooling over a patch smooths them anyway.
 */
export function filterBank(raster: Raster, options: FilterBankOptions): PyramidLevel[] {
  const opponent = normalisedOpponentColour(raster, options, options.colour);
  let { l, a, b } = opponent;
  // A grey image's colour planes are zero at every level (blurs and halvings of zeros are zeros): made, not computed.
  const colourPlane = (from: FloatMap, make: (map: FloatMap) => FloatMap, width: number, height: number): FloatMap =>
    opponent.chroma ? make(from) : zeroPlane(width, height);
  const levels: PyramidLevel[] = [];
  const learnedLevels: PyramidLevel[] = [];
  const lastLevel = Math.max(options.levels, ...[...options.learned ?? [], ...options.discriminators ?? []].map((f) => f.level + 1));
  const discriminatorLevels: PyramidLevel[] = [];
  for (let level = 0; level < lastLevel; level++) {
    for (const filters of options.learned ?? []) {
      if (filters.level === level) learnedLevels.push({ scale: 2 ** (level + 1), ...learnedFilterPlanes(l, filters) });
    }
    for (const network of options.discriminators ?? []) {
      if (network.level === level) discriminatorLevels.push({ scale: 2 ** (level + 1), ...discriminatorPlane(l, network) });
    }
    if (level >= options.levels) {
      if (level + 1 < lastLevel) l = halve(binomialBlur(l));
      continue;
    }
    const smoothL = binomialBlur(l);
    if (level < (options.firstLevel ?? 0)) {
      l = halve(smoothL);
      if (options.colour) {
        a = colourPlane(a, (m) => (level > 0 ? halve(binomialBlur(m)) : halve(m)), l.width, l.height);
        b = colourPlane(b, (m) => (level > 0 ? halve(binomialBlur(m)) : halve(m)), l.width, l.height);
      }
      continue;
    }
    const planes: Float32Array[] = [smoothL.data];
    if (options.colour) {
      if (level > 0) {
        a = colourPlane(a, binomialBlur, l.width, l.height);
        b = colourPlane(b, binomialBlur, l.width, l.height);
      }
      planes.push(a.data, b.data);
    }
    const { gradient, lambda1, lambda2 } = differentialInvariants(smoothL);
    planes.push(gradient, lambda1, lambda2);
    // Local contrast: the spread of lightness in the same σ = 1 window.
    const contrast = new Float32Array(l.data.length);
    for (let i = 0; i < contrast.length; i++) contrast[i] = l.data[i] * l.data[i];
    const meanSq = binomialBlur({ width: l.width, height: l.height, data: contrast }, squares(contrast.length)).data;
    for (let i = 0; i < contrast.length; i++) contrast[i] = Math.sqrt(Math.max(0, meanSq[i] - smoothL.data[i] * smoothL.data[i]));
    planes.push(contrast);
    const basis = options.structure?.[level];
    if (basis) planes.push(structureResidual(l, basis));
    levels.push({ scale: 2 ** level, width: l.width, height: l.height, planes });
    if (level + 1 < lastLevel) {
      l = halve(smoothL);
      if (options.colour) {
        a = colourPlane(a, halve, l.width, l.height);
        b = colourPlane(b, halve, l.width, l.height);
      }
    }
  }
  return [...levels, ...learnedLevels, ...discriminatorLevels];
}

/** Planes known to hold only +0 (a grey image's colour planes): pooling gives +0 without reading them. */
const zeroPlanes = new WeakSet<Float32Array>();
function zeroPlane(width: number, height: number): FloatMap {
  const data = new Float32Array(width * height);
  zeroPlanes.add(data);
  return { width, height, data };
}

/**
 * Opponent colour with lightness normalised as the options say (see `FilterBankOptions.normalise`); without `colour`,
 * lightness only (the colour planes are left zero). `chroma`: whether any colour value is non-zero.
 */
function normalisedOpponentColour(
  raster: Raster, options: Pick<FilterBankOptions, 'normalise' | 'lightnessCentre'>, colour: boolean,
): { l: FloatMap; a: FloatMap; b: FloatMap; chroma: boolean } {
  const planes = colour
    ? opponentColour(raster)
    : { ...lightness(raster), a: zeroPlane(raster.width, raster.height), b: zeroPlane(raster.width, raster.height), chroma: false };
  const { chroma } = planes;
  if (options.normalise === 'robust') {
    const { l, a, b } = planes;
    const { centre, spread } = options.lightnessCentre ?? robustCentre(l.data);
    for (let i = 0; i < l.data.length; i++) l.data[i] = (l.data[i] - centre) / spread;
    // Colour planes share lightness's scale, so that their balance with lightness stays as it was.
    if (chroma) for (const plane of [a.data, b.data]) for (let i = 0; i < plane.length; i++) plane[i] /= spread;
  }
  if (colour && !chroma) {
    zeroPlanes.add(planes.a.data);
    zeroPlanes.add(planes.b.data);
  }
  return planes;
}

/** The median and spread a 'robust' filter bank normalises the raster's lightness by. */
export function lightnessCentre(raster: Raster): { centre: number; spread: number } {
  return robustCentre(lightness(raster).l.data);
}

/** The lightness plane of `opponentColour` alone. */
function lightness(raster: Raster): { l: FloatMap } {
  const { width, height, channels, data } = raster;
  const n = width * height;
  const l = new Float32Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    l[i] = (data[p] + data[p + Math.min(1, channels - 1)] + data[p + Math.min(2, channels - 1)]) / 3;
  }
  return { l: { width, height, data: l } };
}

/** The (normalised) lightness at each of the first `levels` pyramid levels, as the filter bank sees it. */
export function lightnessPyramid(raster: Raster, options: Pick<FilterBankOptions, 'normalise'>, levels: number): FloatMap[] {
  let { l } = normalisedOpponentColour(raster, options, false);
  const out: FloatMap[] = [];
  for (let level = 0; level < levels; level++) {
    out.push(l);
    if (level + 1 < levels) l = halve(binomialBlur(l));
  }
  return out;
}

let squaresBuffer = new Float32Array(0);
function squares(length: number): Float32Array {
  if (squaresBuffer.length < length) squaresBuffer = new Float32Array(length);
  return squaresBuffer.subarray(0, length);
}

const TRANSPOSE_BLOCK = 128;

/**
 * Mean of every plane over every patch of the grid (patch windows mapped to each level's pixels):
 * `out[patch * dims + feature]`, patches in the grid's row-major order. Sums are separable: each row's
 * window sums at the grid's columns (from the row's running sums), then running sums of those down each
 * column, in float64. Only the running column sums at the rows where windows start or end are kept.
 */
export function poolOnGrid(levels: PyramidLevel[], grid: PatchGrid): { dims: number; data: Float32Array } {
  const { dims, byFeature } = poolByFeature(levels, grid);
  return { dims, data: patchMajor(byFeature, grid.columns * grid.rows, dims) };
}

/**
 * The pixels of a level each patch of the grid is pooled over: columns [x0s[gx], x1s[gx]) and rows [y0s[gy], y1s[gy])
 * (the patch's window, widened by `margin` pixels on every side and clipped at the image, mapped to the level's pixels,
 * at least one pixel).
 */
export function poolWindows(
  level: Pick<PyramidLevel, 'width' | 'height' | 'scale'>, grid: PatchGrid, margin = 0,
): { x0s: Int32Array; x1s: Int32Array; y0s: Int32Array; y1s: Int32Array } {
  const { width, height, scale } = level;
  const { columns, rows } = grid;
  const x0s = new Int32Array(columns), x1s = new Int32Array(columns);
  const y0s = new Int32Array(rows), y1s = new Int32Array(rows);
  for (let gx = 0; gx < columns; gx++) {
    const lo = Math.max(0, Math.min(width - 1, Math.floor((grid.xs[gx] - margin) / scale)));
    x0s[gx] = lo;
    x1s[gx] = Math.max(lo + 1, Math.min(width, Math.ceil((grid.xs[gx] + grid.patchWidth + margin) / scale)));
  }
  for (let gy = 0; gy < rows; gy++) {
    const lo = Math.max(0, Math.min(height - 1, Math.floor((grid.ys[gy] - margin) / scale)));
    y0s[gy] = lo;
    y1s[gy] = Math.max(lo + 1, Math.min(height, Math.ceil((grid.ys[gy] + grid.patchHeight + margin) / scale)));
  }
  return { x0s, x1s, y0s, y1s };
}

/** The margins each plane is pooled with: the patch (0), then its context window where the grid has one. */
export function poolPasses(grid: PatchGrid): number[] {
  return (grid.contextMargin ?? 0) > 0 ? [0, grid.contextMargin!] : [0];
}

/**
 * `poolOnGrid`'s means feature-major: `byFeature[feature * patches + patch]`. Each plane's means are computed on their
 * own (the same numbers whichever planes are pooled with it), so columns pooled apart may be joined (`patchMajor`).
 */
export function poolByFeature(levels: PyramidLevel[], grid: PatchGrid): { dims: number; byFeature: Float32Array } {
  const passes = poolPasses(grid);
  const dims = levels.reduce((s, l) => s + l.planes.length, 0) * passes.length;
  const { columns, rows } = grid;
  const patches = columns * rows;
  // Feature-major first (each plane's means contiguous), then transposed once (`patchMajor`): writing every plane's
  // means straight into rows of `dims` values touches every cache line of the output once per feature.
  const byFeature = new Float32Array(patches * dims);
  let feature = 0;
  // A level's planes over the patches, then (with a context margin) over the wider windows: its columns stay together.
  for (const level of levels) for (const pass of passes) {
    const { width, height } = level;
    const { x0s, x1s, y0s, y1s } = poolWindows(level, grid, pass);
    // Per row boundary y (0…height): the slot its running column sums (of rows [0, y)) are kept in, or −1.
    const slotOf = new Int32Array(height + 1).fill(-1);
    let slots = 0;
    for (let gy = 0; gy < rows; gy++) {
      if (slotOf[y0s[gy]] < 0) slotOf[y0s[gy]] = slots++;
      if (slotOf[y1s[gy]] < 0) slotOf[y1s[gy]] = slots++;
    }
    // Planes two at a time: their running sums are independent chains of additions, which the processor overlaps.
    // Planes known to be zero are skipped: their means are the +0 the output starts with.
    const work: { plane: Float32Array; feature: number }[] = [];
    for (const plane of level.planes) {
      if (!zeroPlanes.has(plane)) work.push({ plane, feature });
      feature++;
    }
    const kept0 = new Float64Array(slots * columns), kept1 = new Float64Array(slots * columns);
    const running0 = new Float64Array(columns), running1 = new Float64Array(columns);
    const prefix0 = new Float64Array(width + 1), prefix1 = new Float64Array(width + 1);
    for (let w = 0; w < work.length; w += 2) {
      const pair = w + 1 < work.length ? 2 : 1;
      const plane0 = work[w].plane, plane1 = work[w + pair - 1].plane;
      running0.fill(0);
      running1.fill(0);
      if (slotOf[0] >= 0) {
        kept0.fill(0, slotOf[0] * columns, (slotOf[0] + 1) * columns);
        kept1.fill(0, slotOf[0] * columns, (slotOf[0] + 1) * columns);
      }
      for (let y = 0; y < height; y++) {
        let run0 = 0, run1 = 0;
        for (let x = 0, i = y * width; x < width; x++, i++) {
          prefix0[x + 1] = run0 += plane0[i];
          prefix1[x + 1] = run1 += plane1[i];
        }
        for (let gx = 0; gx < columns; gx++) {
          const x0 = x0s[gx], x1 = x1s[gx];
          running0[gx] = running0[gx] + (prefix0[x1] - prefix0[x0]);
          running1[gx] = running1[gx] + (prefix1[x1] - prefix1[x0]);
        }
        const slot = slotOf[y + 1];
        if (slot >= 0) {
          kept0.set(running0, slot * columns);
          kept1.set(running1, slot * columns);
        }
      }
      for (let q = 0; q < pair; q++) {
        const sums = q === 0 ? kept0 : kept1, base = work[w + q].feature * patches;
        for (let gy = 0; gy < rows; gy++) {
          const top = slotOf[y0s[gy]] * columns, bottom = slotOf[y1s[gy]] * columns, height = y1s[gy] - y0s[gy];
          for (let gx = 0, o = base + gy * columns; gx < columns; gx++, o++) {
            byFeature[o] = (sums[bottom + gx] - sums[top + gx]) / ((x1s[gx] - x0s[gx]) * height);
          }
        }
      }
    }
  }
  return { dims, byFeature };
}

/**
 * Feature-major means (`dims` columns of `patches` values, as `poolByFeature` gives them) as rows of `dims` values per
 * patch. Transposed a block of patches at a time, so that the block's rows stay in the first-level cache (reading all
 * features of one patch at once would step `patches` floats at a time through every feature's plane).
 */
export function patchMajor(byFeature: Float32Array, patches: number, dims: number): Float32Array {
  const data = new Float32Array(patches * dims);
  for (let block = 0; block < patches; block += TRANSPOSE_BLOCK) {
    const end = Math.min(patches, block + TRANSPOSE_BLOCK);
    for (let f = 0; f < dims; f++) {
      for (let p = block, i = f * patches + block, o = block * dims + f; p < end; p++, i++, o += dims) data[o] = byFeature[i];
    }
  }
  return data;
}
