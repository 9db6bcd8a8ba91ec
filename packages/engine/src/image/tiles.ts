import { checkAborted, sampleOf, type Box, type TrainingSample } from '../algorithms/types.ts';
import { Random } from '../kernels/random.ts';
import { decodePixels, probeImage, pixelsToRaster, type ImageInfo, type PixelBuffer } from './decode.ts';
import type { FloatMap, Raster } from './raster.ts';
import { readImageBytes, type ImageBytes } from './training-images.ts';

/**
 * Tiling of large images. A factory photo (e.g. 4032×3024) reduced to a 256-pixel working size would shrink
 * a 14×38-pixel defect below one pixel; instead the image is decoded once at a fixed scale
 * (`working_size / tile_size`), cut into overlapping tiles of `working_size` pixels, and every tile is a
 * sample for training and is scored for prediction. Tile maps are stitched into one map of the scaled image,
 * whose pixels map linearly to the original's, so boxes come out in original pixels.
 *
 * Memory: the decoded image is kept as 8/16-bit integers (36 MB for 12 MP at full scale), and only one
 * float tile exists at a time during prediction.
 */

export interface TileRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TileLayout {
  /** Size of the decoded, scaled image: the stitched map's size. */
  width: number;
  height: number;
  /** Scaled pixels per original pixel (≤ 1: never enlarged). */
  scale: number;
  tiles: TileRect[];
}

/** Neighbouring tiles overlap by a quarter, so a defect on one tile's edge lies well inside another. */
export const TILE_OVERLAP = 0.25;

/** Starts of windows of `size` along `length`, `stride` apart, the last one moved in to end at the edge. */
function starts(length: number, size: number, stride: number): number[] {
  if (size >= length) return [0];
  const out: number[] = [];
  for (let p = 0; p + size < length; p += stride) out.push(p);
  out.push(length - size);
  return out;
}

/**
 * Tiles of an original of `originalWidth`×`originalHeight` pixels: each tile covers `tileSize` original
 * pixels and is `workingSize` pixels wide once scaled (smaller images give one tile of their own size).
 */
export function tileLayout(originalWidth: number, originalHeight: number, tileSize: number, workingSize: number): TileLayout {
  const scale = Math.min(1, workingSize / tileSize);
  const width = Math.max(1, Math.round(originalWidth * scale));
  const height = Math.max(1, Math.round(originalHeight * scale));
  const side = Math.max(1, Math.round(tileSize * scale));
  const tw = Math.min(side, width), th = Math.min(side, height);
  const stride = Math.max(1, Math.floor(side * (1 - TILE_OVERLAP)));
  const tiles: TileRect[] = [];
  for (const y of starts(height, th, stride)) for (const x of starts(width, tw, stride)) tiles.push({ x, y, width: tw, height: th });
  return { width, height, scale, tiles };
}

/** Decodes an image once at its tiling scale. */
export async function decodeForTiles(bytes: Uint8Array, tileSize: number, workingSize: number): Promise<{ info: ImageInfo; layout: TileLayout; pixels: PixelBuffer }> {
  const info = await probeImage(bytes);
  const layout = tileLayout(info.width, info.height, tileSize, workingSize);
  const { pixels } = await decodePixels(bytes, { size: { width: layout.width, height: layout.height } });
  return { info, layout, pixels };
}

export function tileRaster(pixels: PixelBuffer, tile: TileRect): Raster {
  return pixelsToRaster(pixels, tile);
}

/** Boxes (original pixels) that overlap a tile, clipped to it, in the tile's pixels. */
export function boxesInTile(boxes: Box[], layout: TileLayout, tile: TileRect): Box[] {
  const out: Box[] = [];
  for (const b of boxes) {
    const x_min = Math.max(Math.floor(b.x_min * layout.scale), tile.x) - tile.x;
    const y_min = Math.max(Math.floor(b.y_min * layout.scale), tile.y) - tile.y;
    const x_max = Math.min(Math.ceil(b.x_max * layout.scale), tile.x + tile.width) - tile.x;
    const y_max = Math.min(Math.ceil(b.y_max * layout.scale), tile.y + tile.height) - tile.y;
    if (x_max > x_min && y_max > y_min) out.push({ x_min, y_min, x_max, y_max });
  }
  return out;
}

/** Float tiles of all images held at once for training are capped at this many bytes. */
export const TRAINING_TILE_BUDGET_BYTES = 128 * 1024 * 1024;

export interface TilingImage {
  bytes: ImageBytes;
  good: boolean | null;
  boxes?: Box[];
}

/**
 * Training samples from the tiles of every image. A tile of an NG image is NG where one of its boxes
 * overlaps it and OK elsewhere; NG images without boxes give unlabelled tiles (which tile shows the defect
 * is unknown). When all tiles would not fit the memory budget, a seeded random subset of the OK and
 * unlabelled tiles is kept (NG tiles are rare and always kept).
 */
export async function trainingTiles(
  images: TilingImage[], tileSize: number, workingSize: number, seed: number, signal?: AbortSignal,
  budgetBytes = TRAINING_TILE_BUDGET_BYTES,
): Promise<TrainingSample[]> {
  const layouts: TileLayout[] = [];
  for (const image of images) {
    const info = await probeImage(await readImageBytes(image.bytes));
    layouts.push(tileLayout(info.width, info.height, tileSize, workingSize));
  }
  const total = layouts.reduce((n, l) => n + l.tiles.length, 0);
  const bytesPerTile = Math.max(...layouts.map((l) => l.tiles[0].width * l.tiles[0].height * 3 * 4));
  const cap = Math.max(1, Math.floor(budgetBytes / bytesPerTile));
  const kept = total <= cap ? null : new Set(new Random(seed + 31).sample(total, cap));
  const samples: TrainingSample[] = [];
  let index = 0;
  for (let k = 0; k < images.length; k++) {
    checkAborted(signal);
    const image = images[k];
    const layout = layouts[k];
    const { pixels } = await decodePixels(await readImageBytes(image.bytes), { size: { width: layout.width, height: layout.height } });
    for (const tile of layout.tiles) {
      const boxes = image.good === false ? boxesInTile(image.boxes ?? [], layout, tile) : [];
      const good = image.good === false ? ((image.boxes?.length ?? 0) > 0 ? boxes.length === 0 : null) : image.good;
      const keep = kept === null || kept.has(index) || good === false;
      index++;
      if (keep) {
        const sample = sampleOf(tileRaster(pixels, tile), good, boxes);
        sourceImage.set(sample, k);
        samples.push(sample);
      }
    }
  }
  return samples;
}

/** Which training image a tile came from. */
const sourceImage = new WeakMap<TrainingSample, number>();

/**
 * Cross-fitting folds for tiles: whole images go to one fold or the other (OK images alternating, then the
 * others), since overlapping tiles of one image in both halves would make held-out scores too optimistic.
 * Null when the samples are not tiles.
 */
export function foldsByImage(samples: TrainingSample[], random: Random): Map<TrainingSample, number> | null {
  if (samples.length === 0 || !samples.every((s) => sourceImage.has(s))) return null;
  const images = new Map<number, TrainingSample[]>();
  for (const s of samples) {
    const k = sourceImage.get(s)!;
    images.set(k, [...(images.get(k) ?? []), s]);
  }
  const okImages = [...images.keys()].filter((k) => images.get(k)!.every((s) => s.good === true));
  const otherImages = [...images.keys()].filter((k) => !okImages.includes(k));
  const folds = new Map<TrainingSample, number>();
  for (const list of [okImages, otherImages]) {
    // unlabelled tiles get no fold: like unlabelled images, they are trained on and never held out
    random.shuffle(list).forEach((k, i) => images.get(k)!.forEach((s) => s.good !== null && folds.set(s, i % 2)));
  }
  return folds;
}

/**
 * One map of the whole scaled image from per-tile maps (each at its tile's size): where tiles overlap, the
 * highest value wins, so a defect seen well by any tile keeps its score.
 */
export function stitchTileMaps(layout: TileLayout, pixels: PixelBuffer, mapOfTile: (raster: Raster) => FloatMap): FloatMap {
  const out = new Float32Array(layout.width * layout.height).fill(-Infinity);
  for (const tile of layout.tiles) {
    const map = mapOfTile(tileRaster(pixels, tile));
    if (map.width !== tile.width || map.height !== tile.height) throw new Error('a tile map must have its tile\'s size');
    for (let y = 0; y < tile.height; y++) {
      const row = (tile.y + y) * layout.width + tile.x;
      for (let x = 0; x < tile.width; x++) {
        const v = map.data[y * tile.width + x];
        if (v > out[row + x]) out[row + x] = v;
      }
    }
  }
  return { width: layout.width, height: layout.height, data: out };
}
