import { createMap, MapReader, resizeMap, type CompactMap, type FloatMap } from '../image/raster.ts';
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
/** Values a band needs for its own level (a 99.9th percentile of fewer is its maximum, or noise). */
const MIN_BAND_VALUES = 200;

/** Band of a pixel by its distance to the nearest border of a width × height map. */
function borderBand(x: number, y: number, width: number, height: number): number {
  const distance = Math.min(x, y, width - 1 - x, height - 1 - y);
  let band = 0;
  while (band < BORDER_BANDS.length && distance >= BORDER_BANDS[band]) band++;
  return band;
}

/**
 * Every how many pixels a level is sampled: about 2 million values in all, however many maps there are and whatever
 * their sizes. (Counted from the first map's size alone, 381 magnetic-tile maps of different sizes gave 19 million
 * values, and training's memory a 300 MB spike.)
 */
const sampleStride = (pixels: number) => Math.max(1, Math.floor(pixels / 2_000_000));

export function fitCalibration(okMaps: readonly HeldOutMap[], mode: CalibrationMode): Calibration {
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
    // (or too thin in them to have a quantile) takes the level of the band outside it.
    const borderLevels: number[] = [];
    bands.forEach((values, band) => borderLevels.push(values.length >= MIN_BAND_VALUES
      ? Math.max(quantile(values, PIXEL_QUANTILE), level * 0.5)
      : band > 0 ? borderLevels[band - 1] : level));
    return { mode, level, grid: null, borderLevels };
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
export function fitCalibrations(okMaps: readonly HeldOutMap[], modes: readonly CalibrationMode[]): Calibration[] {
  const border = modes.includes('border') && modes.includes('global') ? fitCalibration(okMaps, 'border') : null;
  return modes.map((mode) => {
    if (border && mode === 'border') return border;
    if (border && mode === 'global') return { mode, level: border.level, grid: null };
    return fitCalibration(okMaps, mode);
  });
}

/** Band of each distance to the border up to the last band's end (`borderBand` without its search). */
const BAND_OF_DISTANCE = Int32Array.from({ length: BORDER_BANDS[BORDER_BANDS.length - 1] + 1 }, (_, distance) => {
  let band = 0;
  while (band < BORDER_BANDS.length && distance >= BORDER_BANDS[band]) band++;
  return band;
});

/**
 * The largest value of `applyCalibration(map, calibration)`, at least 0, without making the calibrated map where one
 * level holds for many pixels (global, border): a pixel's calibrated value is its raw value times its level's inverse,
 * rounded to float32, which keeps the order of raw values under one level, so the largest raw value under each level
 * gives its largest calibrated value (the same number). Cross-fitting scores hundreds of held-out maps so.
 */
export function largestCalibrated(map: FloatMap, calibration: Calibration): number {
  const { width, height, data } = map;
  if (calibration.mode === 'border' && calibration.borderLevels) {
    const largest = new Float64Array(calibration.borderLevels.length);
    const deepest = BAND_OF_DISTANCE.length - 1, interior = BORDER_BANDS.length;
    for (let y = 0, i = 0; y < height; y++) {
      const fromEdge = Math.min(y, height - 1 - y);
      for (let x = 0; x < width; x++, i++) {
        const distance = Math.min(x, width - 1 - x, fromEdge);
        const band = distance > deepest ? interior : BAND_OF_DISTANCE[distance];
        if (data[i] > largest[band]) largest[band] = data[i];
      }
    }
    let score = 0;
    calibration.borderLevels.forEach((level, band) => {
      const value = Math.fround(largest[band] * (1 / level));
      if (value > score) score = value;
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
    const inverse = calibration.borderLevels.map((l) => 1 / l);
    for (let y = 0, i = 0; y < map.height; y++) for (let x = 0; x < map.width; x++, i++) out[i] = map.data[i] * inverse[borderBand(x, y, map.width, map.height)];
  } else if (!calibration.grid) {
    const inv = 1 / calibration.level;
    for (let i = 0; i < out.length; i++) out[i] = map.data[i] * inv;
  } else {
    const levels = resizeMap(calibration.grid, map.width, map.height).data;
    for (let i = 0; i < out.length; i++) out[i] = map.data[i] / levels[i];
  }
  return { width: map.width, height: map.height, data: out };
}
