import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { TrainingImage } from '../engine.ts';
import { Random } from '../kernels/random.ts';

/**
 * Many training images from a few, for measuring training at a factory's scale (thousands of good images) on the
 * development sets: copy k of n originals is original k mod n, turned by ⌊k / n⌋ mod 4 quarter turns, shifted
 * cyclically and re-exposed by k's own seed. A copy is made and encoded when training reads it, so that only the
 * originals are ever held, as a file read on demand would give them.
 */
export interface Original {
  width: number;
  height: number;
  channels: number;
  /** 8-bit pixels, row by row. */
  pixels: Uint8Array;
}

/** The images at `paths`, each reduced to `maxSide` pixels on its longest side (copies then decode at that size). */
export async function loadOriginals(paths: string[], maxSide: number): Promise<Original[]> {
  const originals: Original[] = [];
  for (const path of paths) {
    const { data, info } = await sharp(await readFile(path)).rotate()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha().raw().toBuffer({ resolveWithObject: true });
    originals.push({ width: info.width, height: info.height, channels: info.channels, pixels: new Uint8Array(data) });
  }
  return originals;
}

/** The pixels of copy k (see above). */
export function copyOf(originals: Original[], k: number): Original {
  const base = originals[k % originals.length];
  const random = new Random(k);
  const turns = Math.floor(k / originals.length) % 4, gain = 0.8 + 0.4 * random.next();
  const sx = random.int(base.width), sy = random.int(base.height);
  const { channels } = base;
  const width = turns % 2 ? base.height : base.width, height = turns % 2 ? base.width : base.height;
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let bx = x, by = y;
    if (turns === 1) { bx = y; by = base.height - 1 - x; } else if (turns === 2) { bx = base.width - 1 - x; by = base.height - 1 - y; } else if (turns === 3) { bx = base.width - 1 - y; by = x; }
    const source = (((by + sy) % base.height) * base.width + ((bx + sx) % base.width)) * channels;
    for (let c = 0; c < channels; c++) pixels[(y * width + x) * channels + c] = Math.min(255, Math.round(base.pixels[source + c] * gain));
  }
  return { width, height, channels, pixels };
}

/** Copy k encoded as PNG (fast compression: the encoding is the test's cost, not the engine's). */
export function encodedCopy(originals: Original[], k: number): Promise<Uint8Array> {
  const { width, height, channels, pixels } = copyOf(originals, k);
  return sharp(pixels, { raw: { width, height, channels: channels as 1 | 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** `count` good training images, each copy made and encoded when training reads it. */
export function copiedTrainingImages(originals: Original[], count: number): TrainingImage[] {
  return Array.from({ length: count }, (_, k) => ({ bytes: () => encodedCopy(originals, k), good: true }));
}
