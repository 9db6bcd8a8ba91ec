import { createMap, MapReader, middleMargin, resizeMap, type CompactMap, type FloatMap } from '../image/raster.ts';
import { quantile } from './quantile.ts';

/**
 * Turns an algorithm's raw anomaly map into calibrated units: 1.0 ≈ what held-out good images reach.
 * `global` divides by one number; `location` divides by a coarse grid of per-place levels, so that places
 * that vary in good images (part edges, highlights) must vary more before they count; `border` divides by a
 * level per distance to the image border, for products seen at random offsets (tiles, textures), whose border
 * patches vary most but at no fixed place.
 */
export type CalibrationMode = 'global' | 'location' | 'border';

export interface Calibration {
  mode: CalibrationMode;
  /** Quantile of held-out OK pixel values (the global level). */
  level: number;
  /** Per-place levels on a coarse grid (location mode). */
  grid: FloatMap | null;
  /** Per-band levels by distance to the nearest image border, bands ending at BORDER_BANDS (border mode). */
  borderLevels?: number[];
  /**
   * Border mode: each band's median and the global median of held-out OK pixels. With them a band's values below its
   * level are mapped by two points, its median to the global median and its level to 1 (see `borderLines`); models
   * without them divide by the band's level alone.
   */
  borderMedians?: number[];
  median?: number;
}

/**
 * A held-out map as calibration reads it: in full, or compact (see `CompactMap`) and expanded each time it is read, one
 * map at a time, so that hundreds of them need not be held at full size at once.
 */
export type HeldOutMap = FloatMap | CompactMap;

export const PIXEL_QUANTILE = 0.999;
const GRID_CELLS = 12;
/**
 * Upper ends of the distance-to-border bands, in map pixels (working resolution): widths growing by about half, so the
 * first pixels, where filters and patches reach past the image, get bands of their own; the last band is the interior.
 */
export const BORDER_BANDS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];
/** Values a band needs for its own level (a tail quantile of fewer is its maximum, or noise). */
const MIN_BAND_VALUES = 200;
/**
 * Where a band's tail is measured: its level is its median plus the global tail (99.9th percentile less median) scaled by
 * how far the band's 99th percentile lies above its median, compared with the global one's, and kept within
 * `BAND_LEVEL_SPREAD` of the band's own 99.9th percentile. That one alone rests on a few map blocks (maps are patch-sized
 * blocks, and a thin band holds few): on the cookies (31 images) the two halves' band levels differed by 10–25 % while
 * their medians agreed within 2 %, and that noise, raising the border of good images, cost 0.036 image AUROC against
 * global calibration. The bound keeps a band whose tail is shaped unlike the whole image's (a heavy tail at a tile's
 * edge) near what it reaches itself; on the held-out maps of the five sets and eleven 30-image subsets it never bound
 * (PS README, "Band levels from the 99th percentile").
 */
const BAND_TAIL_QUANTILE = 0.99;
const BAND_LEVEL_SPREAD = 1.25;

/** Band of each distance to the border up to the last band's end, so that `borderBand` need not search. */
const BAND_OF_DISTANCE = Int32Array.from({ length: BORDER_BANDS[BORDER_BANDS.length - 1] + 1 }, (_, distance) => {
  let band = 0;
  while (band < BORDER_BANDS.length && distance >= BORDER_BANDS[band]) band++;
  return band;
});

/** Band of a distance to the nearest border (in map pixels). */
function bandOfDistance(distance: number): number {
  return distance < BAND_OF_DISTANCE.length ? BAND_OF_DISTANCE[distance] : BORDER_BANDS.length;
}

/** Band of a pixel by its distance to the nearest border of a width × height map. */
function borderBand(x: number, y: number, width: number, height: number): number {
  return bandOfDistance(Math.min(x, y, width - 1 - x, height - 1 - y));
}

/**
 * Every how many pixels a level is sampled: about 2 million values in all, however many maps there are and whatever
 * their sizes. (Counted from the first map's size alone, 381 magnetic-tile maps of different sizes gave 19 million
 * values, and training's memory a 300 MB spike.)
 */
const sampleStride = (pixels: number) => Math.max(1, Math.floor(pixels / 2_000_000));

/**
 * How the border mode fits its bands: `medians` also keeps each band's median (the two-point lines of `borderLines`,
 * off by default: better pixel AUROC, worse image AUROC on the magnetic tiles; see the PS README).
 */
export interface CalibrationFitOptions { borderMedians?: boolean }

export function fitCalibration(okMaps: readonly HeldOutMap[], mode: CalibrationMode, options: CalibrationFitOptions = {}): Calibration {
  const stride = sampleStride(okMaps.reduce((sum, map) => sum + map.width * map.height, 0));
  // The sampled values (every stride-th pixel of each map) held in float32 arrays of their exact length, as the maps
  // hold them: growing arrays of 2 million numbers, twice for border mode, were most of validation's memory.
  const values = new Float32Array(okMaps.reduce((sum, map) => sum + Math.ceil((map.width * map.height) / stride), 0));
  // Border mode fills its bands in the same pass: each map is expanded once. A pixel's band depends on its place alone.
  const bandsBySize = new Map<string, Uint8Array>();
  const bandsOf = (width: number, height: number) => {
    const key = `${width}x${height}`;
    let bandOfSample = bandsBySize.get(key);
    if (!bandOfSample) {
      bandOfSample = new Uint8Array(Math.ceil((width * height) / stride));
      for (let i = 0, s = 0; i < width * height; i += stride, s++) bandOfSample[s] = borderBand(i % width, Math.floor(i / width), width, height);
      bandsBySize.set(key, bandOfSample);
    }
    return bandOfSample;
  };
  let bands: Float32Array[] | null = null;
  const filled = new Int32Array(BORDER_BANDS.length + 1);
  if (mode === 'border') {
    const sizes = new Int32Array(BORDER_BANDS.length + 1);
    for (const map of okMaps) for (const band of bandsOf(map.width, map.height)) sizes[band]++;
    bands = Array.from(sizes, (size) => new Float32Array(size));
  }
  const reader = new MapReader();
  let sampled = 0;
  for (const held of okMaps) {
    const map = reader.read(held);
    const bandOfSample = bands ? bandsOf(map.width, map.height) : null;
    for (let i = 0, s = 0; i < map.data.length; i += stride, s++) {
      values[sampled++] = map.data[i];
      if (bands) {
        const band = bandOfSample![s];
        bands[band][filled[band]++] = map.data[i];
      }
    }
  }
  const level = Math.max(quantile(values, PIXEL_QUANTILE), 1e-9);
  if (mode === 'global') return { mode, level, grid: null };
  if (bands) {
    // As for places: a band's level never drops far below the global one. A band deeper than the training images reach
    // (or too thin in them to have a quantile) takes the level and median of the band outside it.
    const median = quantile(values, 0.5);
    const globalTail = quantile(values, BAND_TAIL_QUANTILE) - median;
    const borderLevels: number[] = [];
    const borderMedians: number[] = [];
    bands.forEach((values, band) => {
      if (values.length < MIN_BAND_VALUES) {
        borderLevels.push(band > 0 ? borderLevels[band - 1] : level);
        borderMedians.push(band > 0 ? borderMedians[band - 1] : median);
        return;
      }
      const bandMedian = quantile(values, 0.5);
      const ownLevel = quantile(values, PIXEL_QUANTILE);
      const fromTail = globalTail > 0 ? bandMedian + ((level - median) * (quantile(values, BAND_TAIL_QUANTILE) - bandMedian)) / globalTail : ownLevel;
      const bandLevel = Math.min(Math.max(fromTail, ownLevel / BAND_LEVEL_SPREAD), ownLevel * BAND_LEVEL_SPREAD);
      borderLevels.push(Math.max(bandLevel, level * 0.5));
      borderMedians.push(bandMedian);
    });
    return options.borderMedians ? { mode, level, grid: null, borderLevels, borderMedians, median } : { mode, level, grid: null, borderLevels };
  }
  const { width, height } = okMaps[0];
  // Every map is resized to the first one's size here.
  const locationStride = sampleStride(okMaps.length * width * height);
  const cell = Math.max(width, height) / GRID_CELLS;
  const gw = Math.max(1, Math.round(width / cell));
  const gh = Math.max(1, Math.round(height / cell));
  const grid = createMap(gw, gh);
  const buckets: number[][] = Array.from({ length: gw * gh }, () => []);
  for (const held of okMaps) {
    // Images of other sizes (aspect ratios differ between photos) are compared place by place, relatively.
    const map = resizeMap(reader.read(held), width, height);
    for (let y = 0; y < height; y++) {
      const gy = Math.min(gh - 1, Math.floor((y * gh) / height));
      // Sampled as the global level is: hundreds of tile maps must not fill memory with values.
      for (let x = (y * width) % locationStride === 0 ? 0 : locationStride - ((y * width) % locationStride); x < width; x += locationStride) {
        const gx = Math.min(gw - 1, Math.floor((x * gw) / width));
        buckets[gy * gw + gx].push(map.data[y * width + x]);
      }
    }
  }
  // A place's level never drops far below the global one: few samples per cell make low quantiles noisy.
  for (let i = 0; i < buckets.length; i++) grid.data[i] = Math.max(quantile(buckets[i], PIXEL_QUANTILE), level * 0.5);
  return { mode, level, grid };
}

/**
 * `fitCalibration` of each mode (same order) on the same maps. A border fit samples the very values the global fit does,
 * and its level is theirs: when both are asked for, the global one is taken from it, each map expanded once less.
 */
export function fitCalibrations(okMaps: readonly HeldOutMap[], modes: readonly CalibrationMode[], options: CalibrationFitOptions = {}): Calibration[] {
  const border = modes.includes('border') && modes.includes('global') ? fitCalibration(okMaps, 'border', options) : null;
  return modes.map((mode) => {
    if (border && mode === 'border') return border;
    if (border && mode === 'global') return { mode, level: border.level, grid: null };
    return fitCalibration(okMaps, mode, options);
  });
}

/** How one border band calibrates: `bandValue`. */
export interface BandLine { inverse: number; level: number; gain: number; offset: number }

/**
 * Border mode, per band: above the band's level, raw ÷ level (so image scores, maps' largest values, are what dividing by
 * the level gave); below it, the line through (band median → global median, band level → 1). The border of tiles and
 * textures varies most in its *tail* (magnetic tiles, held-out OK maps: band medians 1.98–2.21 from the interior to the
 * edge, 99.9th percentiles 2.9–4.9), so dividing by the level alone also pressed down the bulk of every pixel within 64
 * pixels of the border, defects there included. The line's spread (level − median) never falls below a quarter of the
 * global one (a band's gain at most four times the global gain). Without medians (older models) and above the level:
 * raw × (1 / level), as before.
 */
export function borderLines(calibration: Calibration): BandLine[] {
  const levels = calibration.borderLevels ?? [];
  const medians = calibration.borderMedians;
  const globalMedian = calibration.median;
  const globalSpread = globalMedian === undefined ? 0 : calibration.level - globalMedian;
  return levels.map((level, band) => {
    const inverse = 1 / level;
    if (!medians || globalMedian === undefined || !(globalSpread > 0)) return { inverse, level, gain: inverse, offset: 0 };
    const spread = Math.max(level - medians[band], globalSpread * 0.25);
    const gain = globalSpread / spread / calibration.level;
    return { inverse, level, gain, offset: 1 - level * gain };
  });
}

/** A raw value calibrated by its band's line (`borderLines`). */
export function bandValue(value: number, line: BandLine): number {
  return value >= line.level ? value * line.inverse : value * line.gain + line.offset;
}

/**
 * What a raw rise of one unit becomes after calibration, on average over the middle of a width × height map (the pixels
 * at least `middleMargin` from every border): for border mode the rise of a defect above its band's level
 * (1 / level: the lines below the level have offsets, so calibrating a map of ones would not say it). The middle, because
 * a product fills the middle of the frame when it does not fill all of it: a calm border where nothing lies (the plain
 * background around an object) gets a low level and so a high gain, which counted as sensitivity where no defect can be
 * (turned aliens: border 1.07–1.10× as sensitive as global over the whole frame, 0.90–0.99× over its middle, and global
 * scores 0.935 image AUROC against 0.831).
 */
export function meanGain(calibration: Calibration, width: number, height: number): number {
  const lines = calibration.mode === 'border' && calibration.borderLevels && calibration.borderMedians ? borderLines(calibration) : null;
  const unit = lines ? null : applyCalibration({ width, height, data: new Float32Array(width * height).fill(1) }, calibration).data;
  const middle = middleMargin(width, height);
  let sum = 0, count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const distance = Math.min(x, y, width - 1 - x, height - 1 - y);
      if (distance < middle) continue;
      sum += lines ? lines[borderBand(x, y, width, height)].inverse : unit![y * width + x];
      count++;
    }
  }
  return sum / count;
}

/**
 * The largest value of `applyCalibration(map, calibration)`, at least 0, without making the calibrated map where one
 * level holds for many pixels (global, border): a pixel's calibrated value is its raw value times its level's inverse,
 * rounded to float32, which keeps the order of raw values under one level, so the largest raw value under each level
 * gives its largest calibrated value (the same number). Cross-fitting scores hundreds of held-out maps so.
 */
export function largestCalibrated(map: FloatMap, calibration: Calibration): number {
  const { width, height, data } = map;
  if (calibration.mode === 'border' && calibration.borderLevels) {
    // A band the map does not reach must not count (its offset alone could exceed the others).
    const largest = new Float64Array(calibration.borderLevels.length).fill(-Infinity);
    for (let y = 0, i = 0; y < height; y++) {
      const fromEdge = Math.min(y, height - 1 - y);
      for (let x = 0; x < width; x++, i++) {
        const band = bandOfDistance(Math.min(x, width - 1 - x, fromEdge));
        if (data[i] > largest[band]) largest[band] = data[i];
      }
    }
    const lines = borderLines(calibration);
    let score = 0;
    largest.forEach((value, band) => {
      if (value === -Infinity) return;
      const calibrated = Math.fround(bandValue(value, lines[band]));
      if (calibrated > score) score = calibrated;
    });
    return score;
  }
  if (calibration.grid || !(calibration.level > 0)) {
    const calibrated = applyCalibration(map, calibration).data;
    let score = 0;
    for (let i = 0; i < calibrated.length; i++) if (calibrated[i] > score) score = calibrated[i];
    return score;
  }
  let largest = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > largest) largest = data[i];
  return largest > 0 ? Math.fround(largest * (1 / calibration.level)) : 0;
}

export function applyCalibration(map: FloatMap, calibration: Calibration): FloatMap {
  const out = new Float32Array(map.data.length);
  if (calibration.mode === 'border' && calibration.borderLevels) {
    const lines = borderLines(calibration);
    for (let y = 0, i = 0; y < map.height; y++) for (let x = 0; x < map.width; x++, i++) out[i] = bandValue(map.data[i], lines[borderBand(x, y, map.width, map.height)]);
  } else if (!calibration.grid) {
    const inv = 1 / calibration.level;
    for (let i = 0; i < out.length; i++) out[i] = map.data[i] * inv;
  } else {
    const levels = resizeMap(calibration.grid, map.width, map.height).data;
    for (let i = 0; i < out.length; i++) out[i] = map.data[i] / levels[i];
  }
  return { width: map.width, height: map.height, data: out };
}
