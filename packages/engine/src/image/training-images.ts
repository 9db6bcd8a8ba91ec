import { checkAborted, type Box, type TrainingSample } from '../algorithms/types.ts';
import { decodePixels, pixelsToRaster, type ImageInfo, type PixelBuffer } from './decode.ts';

/**
 * Training images decoded on demand. A factory trains on thousands of images: decoded up front, 5,000 float rasters
 * of 256×256 would take 3.9 GB. Instead each sample decodes its image when an algorithm reads it, and a bounded cache
 * keeps decoded pixels between reads, so that a few hundred images are decoded once, as before, and more cost at
 * most the cache's budget (the images beyond it are decoded again on each pass).
 */

/** An image's encoded bytes, or a function that reads them when the image is decoded (a file read on demand). */
export type ImageBytes = Uint8Array | (() => Promise<Uint8Array>);

export function readImageBytes(bytes: ImageBytes): Promise<Uint8Array> {
  return typeof bytes === 'function' ? bytes() : Promise.resolve(bytes);
}

/**
 * Decoded pixels kept between reads by default. Kept as the decoder's integers (3 bytes a pixel for 8-bit images), a
 * quarter of the float raster made from them at each read (which costs ~0.3 ms at 256×256, a decode 4–12 ms): 128 MB
 * hold 680 images of 256×256, every set of the development suite (at most 400 training images).
 */
export const DECODED_PIXELS_CACHE_BYTES = 128 * 1024 * 1024;

/**
 * Keeps the first images decoded until its budget is spent, then no more. Not least-recently-used: training reads its
 * images in whole passes (cross-fitting folds, then the final model), and a least-recently-used cache smaller than a
 * pass would drop every image just before the next pass reads it; this one serves the same share of every pass.
 */
export class DecodedPixelsCache {
  /** Pixels as decoded, or a grey image's one channel (`grey` true), spread to RGB again when read. */
  private readonly kept = new Map<number, { pixels: PixelBuffer; grey: boolean }>();
  private used = 0;
  constructor(private budgetBytes = DECODED_PIXELS_CACHE_BYTES) {}

  /** Lets go of every image kept, and keeps no more. */
  release(): void {
    this.kept.clear();
    this.used = 0;
    this.budgetBytes = 0;
  }

  get(key: number): PixelBuffer | undefined {
    const entry = this.kept.get(key);
    if (!entry || !entry.grey) return entry?.pixels;
    const { width, height, data, maxValue } = entry.pixels;
    const rgb = new (data.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(data.length * 3);
    for (let i = 0, o = 0; i < data.length; i++, o += 3) rgb[o] = rgb[o + 1] = rgb[o + 2] = data[i];
    return { width, height, data: rgb, maxValue };
  }

  /**
   * Keeps a grey image (its three channels equal at every pixel) as its one channel: a third of the bytes, so that the
   * budget holds three times the images (deeppcb's 400 of 512 × 512 instead of 170, each other one decoded again on
   * every pass). Read back, its pixels are the same values.
   */
  offer(key: number, pixels: PixelBuffer): void {
    if (this.kept.has(key)) return;
    const { data } = pixels;
    let grey = true;
    for (let i = 0; i < data.length && grey; i += 3) grey = data[i] === data[i + 1] && data[i] === data[i + 2];
    const bytes = grey ? data.byteLength / 3 : data.byteLength;
    if (this.used + bytes > this.budgetBytes) return;
    if (grey) {
      const one = new (data.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(data.length / 3);
      for (let i = 0, o = 0; i < one.length; i++, o += 3) one[i] = data[o];
      this.kept.set(key, { pixels: { ...pixels, data: one }, grey: true });
    } else {
      this.kept.set(key, { pixels, grey: false });
    }
    this.used += bytes;
  }
}

export interface TrainingImageInput {
  bytes: ImageBytes;
  good: boolean | null;
  boxes?: Box[];
}

function scaleBoxes(boxes: Box[] | undefined, from: { width: number; height: number }, to: { width: number; height: number }): Box[] {
  const sx = to.width / from.width, sy = to.height / from.height;
  return (boxes ?? []).map((b) => ({
    x_min: Math.floor(b.x_min * sx), y_min: Math.floor(b.y_min * sy),
    x_max: Math.ceil(b.x_max * sx), y_max: Math.ceil(b.y_max * sy),
  }));
}

/**
 * One sample per image, its raster decoded at `workingSize` when read (a new raster at each read, from the cache's
 * pixels or a fresh decode: the same values either way). Images with boxes are decoded now, once, to scale their boxes
 * to the raster; the others are not read until an algorithm needs them.
 */
export async function decodedSamples(
  images: TrainingImageInput[], workingSize: number, cache: DecodedPixelsCache, signal?: AbortSignal,
): Promise<TrainingSample[]> {
  const decode = async (index: number): Promise<{ info: ImageInfo; pixels: PixelBuffer }> => {
    const decoded = await decodePixels(await readImageBytes(images[index].bytes), { maxSide: workingSize });
    cache.offer(index, decoded.pixels);
    return decoded;
  };
  const samples: TrainingSample[] = [];
  for (let index = 0; index < images.length; index++) {
    checkAborted(signal);
    const image = images[index];
    let boxes: Box[] = [];
    if ((image.boxes?.length ?? 0) > 0) {
      const { info, pixels } = await decode(index);
      boxes = scaleBoxes(image.boxes, info, pixels);
    }
    samples.push({
      load: async () => pixelsToRaster(cache.get(index) ?? (await decode(index)).pixels),
      // Not kept: an algorithm reads a few images at another side to decide its own (then the engine decodes them all at it).
      loadAt: async (maxSide) => pixelsToRaster((await decodePixels(await readImageBytes(image.bytes), { maxSide })).pixels),
      good: image.good, boxes, source: index, fresh: true,
    });
  }
  return samples;
}
