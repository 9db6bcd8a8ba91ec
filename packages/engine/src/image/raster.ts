import type { PatchGrid } from '../features/patches.ts';

/**
 * A decoded image in working memory: interleaved channels, values in [0, 1].
 * Every algorithm reads Rasters; nothing in the engine touches encoded bytes except `image/decode.ts`.
 */
export interface Raster {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** Pixels [x0, x1) × [y0, y1) of a raster. */
export interface PixelBox { x0: number; y0: number; x1: number; y1: number }

/** A single-channel float map (anomaly maps, grey images, feature planes). */
export interface FloatMap {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * A map kept in a smaller form until it is read (PS: the patch scores it is spread from, a sixteenth of its pixels):
 * `expand()` makes the width × height map, the same values at every call. Training holds its held-out maps this way.
 */
export interface CompactMap {
  readonly width: number;
  readonly height: number;
  /** `into`: a buffer of at least width × height values the map may be written to (and then be a view of). */
  expand(into?: Float32Array): FloatMap;
  /** The same map as plain data, which can cross to another thread (`training/portable-maps.ts` makes it a map again). */
  readonly portable?: PortablePatchScores;
}

/** Patch scores and their grid, spread to pixels as they are ('patch-scores') or smoothed over about a patch too. */
export interface PortablePatchScores {
  kind: 'patch-scores' | 'smoothed-patch-scores';
  scores: Float32Array;
  grid: PatchGrid;
}

/**
 * A map in either form, read in full: a FloatMap is itself, a CompactMap is expanded (a new map at each call, or, with
 * `into`, possibly written over `into`: read it before the next expansion into the same buffer).
 */
export function expandMap(map: FloatMap | CompactMap, into?: Float32Array): FloatMap {
  return 'data' in map ? map : map.expand(into);
}

/**
 * Reads maps one after another into one buffer (grown when a map needs more): calibration reads hundreds of held-out
 * maps several times each, and a fresh 1 MB map for each read left that much garbage (deeppcb, 400 images: validation
 * took the resident set from 457 to 624 MB).
 */
export class MapReader {
  private buffer = new Float32Array(0);
  read(map: FloatMap | CompactMap): FloatMap {
    if ('data' in map) return map;
    if (this.buffer.length < map.width * map.height) this.buffer = new Float32Array(map.width * map.height);
    return map.expand(this.buffer);
  }
}

/**
 * How far the middle of a width × height frame lies from its borders: a quarter of the shorter side. Where a product does
 * not fill the frame it fills the middle, so checks that must look at the product and not at a background of each shot's
 * own (calibration sensitivity, exposure) look there.
 */
export function middleMargin(width: number, height: number): number {
  return Math.floor(Math.min(width, height) / 4);
}

export function createMap(width: number, height: number, fill = 0): FloatMap {
  const data = new Float32Array(width * height);
  if (fill !== 0) data.fill(fill);
  return { width, height, data };
}

/** Luminance (Rec. 601) of a raster; a single-channel raster is returned as a map of itself. */
export function toGray(raster: Raster): FloatMap {
  const { width, height, channels, data } = raster;
  if (channels === 1) return { width, height, data };
  const out = new Float32Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    out[i] = 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
  }
  return { width, height, data: out };
}

/** One channel of a raster as a map. */
export function channelOf(raster: Raster, channel: number): FloatMap {
  const { width, height, channels, data } = raster;
  const out = new Float32Array(width * height);
  for (let i = 0, p = channel; i < out.length; i++, p += channels) out[i] = data[p];
  return { width, height, data: out };
}

/** Bilinear resampling of a map to another size (pixel centres aligned, as image resizers do). */
export function resizeMap(map: FloatMap, width: number, height: number): FloatMap {
  if (map.width === width && map.height === height) return map;
  const out = new Float32Array(width * height);
  const sx = map.width / width;
  const sy = map.height / height;
  const src = map.data;
  const mw = map.width;
  // Each column's two source columns and weight, worked out once (the same numbers for every row).
  const left = new Int32Array(width), right = new Int32Array(width), weights = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), mw - 1);
    left[x] = Math.floor(fx);
    right[x] = Math.min(left[x] + 1, mw - 1);
    weights[x] = fx - left[x];
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const x0 = left[x], x1 = right[x], wx = weights[x];
      const top = src[y0 * mw + x0] * (1 - wx) + src[y0 * mw + x1] * wx;
      const bottom = src[y1 * mw + x0] * (1 - wx) + src[y1 * mw + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { width, height, data: out };
}

/** Bilinear resampling of every channel of a raster. */
export function resizeRaster(raster: Raster, width: number, height: number): Raster {
  if (raster.width === width && raster.height === height) return raster;
  const out = new Float32Array(width * height * raster.channels);
  for (let c = 0; c < raster.channels; c++) {
    const plane = resizeMap(channelOf(raster, c), width, height).data;
    for (let i = 0, p = c; i < plane.length; i++, p += raster.channels) out[p] = plane[i];
  }
  return { width, height, channels: raster.channels, data: out };
}

/** Size that fits `maxSide` on the longest side, keeping the aspect ratio (never enlarges). */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Half the size (rounded down), each pixel the mean of a 2×2 block: the box filter is the anti-aliasing a halving
 * needs, and it is exact where bilinear sampling of a halved grid falls between pixels.
 */
export function halveRaster(raster: Raster): Raster {
  const width = Math.max(1, raster.width >> 1), height = Math.max(1, raster.height >> 1), c = raster.channels;
  if (raster.width < 2 || raster.height < 2) return raster;
  const out = new Float32Array(width * height * c);
  const src = raster.data, row = raster.width * c;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = (2 * y * raster.width + 2 * x) * c;
      for (let k = 0; k < c; k++) {
        out[(y * width + x) * c + k] = 0.25 * (src[a + k] + src[a + c + k] + src[a + row + k] + src[a + row + c + k]);
      }
    }
  }
  return { width, height, channels: c, data: out };
}
