import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resizeMap, type FloatMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';

/** Bilinear resampling pixel by pixel, pixel centres aligned: what `resizeMap` must give. */
function plainResize(map: FloatMap, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = map.width / width, sy = map.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, map.height - 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, map.width - 1), wx = fx - x0;
      const top = map.data[y0 * map.width + x0] * (1 - wx) + map.data[y0 * map.width + x1] * wx;
      const bottom = map.data[y1 * map.width + x0] * (1 - wx) + map.data[y1 * map.width + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

test('maps are resized bit for bit as bilinear sampling of each pixel, enlarged, shrunk, or both', () => {
  const random = new Random(4);
  const sizes: [number, number, number, number][] = [[64, 45, 256, 177], [256, 177, 512, 354], [300, 200, 97, 61], [1, 1, 5, 3], [7, 9, 7, 20], [40, 3, 13, 30]];
  for (const [w, h, width, height] of sizes) {
    const map = { width: w, height: h, data: Float32Array.from({ length: w * h }, () => random.normal() * 10 ** (random.int(5) - 2)) };
    assert.deepEqual(resizeMap(map, width, height).data, plainResize(map, width, height), `${w}×${h} → ${width}×${height}`);
  }
});
