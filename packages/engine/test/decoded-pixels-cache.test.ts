// The training images' cache of decoded pixels: what it gives back is what was decoded; grey images cost a third.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodedPixelsCache } from '../src/image/training-images.ts';
import type { PixelBuffer } from '../src/image/decode.ts';

function pixels(width: number, height: number, grey: boolean, seed: number): PixelBuffer {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = (i * 37 + seed * 11) % 256;
    data[3 * i] = v;
    data[3 * i + 1] = grey ? v : (v + 1) % 256;
    data[3 * i + 2] = grey ? v : (v + 2) % 256;
  }
  return { width, height, data, maxValue: 255 };
}

test('the decoded pixels cache gives back the same pixels, and holds three grey images where one colour image fits', () => {
  const width = 20, height = 10, rgbBytes = width * height * 3;
  const cache = new DecodedPixelsCache(rgbBytes);
  const greys = [0, 1, 2, 3].map((seed) => pixels(width, height, true, seed));
  greys.forEach((p, i) => cache.offer(i, p));
  for (let i = 0; i < 3; i++) assert.deepEqual(cache.get(i), greys[i]);
  assert.equal(cache.get(3), undefined, 'the budget is spent');
  const colourCache = new DecodedPixelsCache(rgbBytes);
  const colour = pixels(width, height, false, 5);
  colourCache.offer(0, colour);
  colourCache.offer(1, pixels(width, height, false, 6));
  assert.deepEqual(colourCache.get(0), colour);
  assert.equal(colourCache.get(1), undefined);
});
