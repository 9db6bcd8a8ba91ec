import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearBorder, dilate, gaussianBlur, mapMax } from '../src/postprocess/filters.ts';
import { Random } from '../src/kernels/random.ts';
import type { FloatMap } from '../src/image/raster.ts';

function randomMap(random: Random, width: number, height: number): FloatMap {
  return { width, height, data: Float32Array.from({ length: width * height }, () => random.next()) };
}

/** Obvious dilation: the max over the window, the window's extra column/row (even sizes) after the pixel. */
function slowDilate(map: FloatMap, ww: number, wh: number): Float32Array {
  const out = new Float32Array(map.data.length);
  const bx = Math.floor((ww - 1) / 2), by = Math.floor((wh - 1) / 2);
  for (let y = 0; y < map.height; y++) for (let x = 0; x < map.width; x++) {
    let m = -Infinity;
    for (let v = y - by; v < y - by + wh; v++) for (let u = x - bx; u < x - bx + ww; u++) {
      if (u >= 0 && v >= 0 && u < map.width && v < map.height) m = Math.max(m, map.data[v * map.width + u]);
    }
    out[y * map.width + x] = m;
  }
  return out;
}

test('dilation equals the obvious window maximum on random maps, odd and even windows', () => {
  const random = new Random(31);
  for (let trial = 0; trial < 40; trial++) {
    const map = randomMap(random, 1 + random.int(20), 1 + random.int(20));
    const ww = 1 + random.int(7), wh = 1 + random.int(7);
    assert.deepEqual(Array.from(dilate(map, ww, wh).data), Array.from(slowDilate(map, ww, wh)), `${ww}×${wh}`);
  }
});

test('Gaussian blur equals a direct 2-D convolution with clamped borders', () => {
  const random = new Random(32);
  const map = randomMap(random, 17, 11);
  const sigma = 1.7;
  const radius = Math.ceil(sigma * 3);
  const out = gaussianBlur(map, sigma).data;
  let norm = 0;
  for (let i = -radius; i <= radius; i++) norm += Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let y = 0; y < map.height; y++) for (let x = 0; x < map.width; x++) {
    let acc = 0;
    for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) {
      const u = Math.min(map.width - 1, Math.max(0, x + dx)), v = Math.min(map.height - 1, Math.max(0, y + dy));
      acc += map.data[v * map.width + u] * Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / (norm * norm);
    }
    assert.ok(Math.abs(out[y * map.width + x] - acc) < 1e-5);
  }
  const flat = gaussianBlur({ width: 9, height: 9, data: new Float32Array(81).fill(0.3) }, 2);
  assert.ok(flat.data.every((v) => Math.abs(v - 0.3) < 1e-6), 'a flat map stays flat');
});

test('Gaussian blur with normalised borders equals a direct 2-D average over the pixels that exist', () => {
  const random = new Random(33);
  for (const [width, height, sigma] of [[17, 11, 1.7], [3, 9, 2], [1, 5, 0.8]] as const) {
    const map = randomMap(random, width, height);
    const radius = Math.max(1, Math.ceil(sigma * 3));
    const out = gaussianBlur(map, sigma, 'normalised').data;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      let acc = 0, weight = 0;
      for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) {
        const u = x + dx, v = y + dy;
        if (u < 0 || v < 0 || u >= width || v >= height) continue;
        const w = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
        acc += map.data[v * width + u] * w;
        weight += w;
      }
      assert.ok(Math.abs(out[y * width + x] - acc / weight) < 1e-5, `${width}×${height} at ${x},${y}`);
    }
  }
  // Unlike clamping, an edge value weighs no more than an interior one: a spike on the edge is spread as much.
  const edge = new Float32Array(15 * 15), middle = new Float32Array(15 * 15);
  edge[7 * 15] = 1;
  middle[7 * 15 + 7] = 1;
  const fromEdge = gaussianBlur({ width: 15, height: 15, data: edge }, 2, 'normalised').data[7 * 15];
  const fromMiddle = gaussianBlur({ width: 15, height: 15, data: middle }, 2, 'normalised').data[7 * 15 + 7];
  const clamped = gaussianBlur({ width: 15, height: 15, data: edge }, 2).data[7 * 15];
  assert.ok(fromEdge < clamped, `normalised ${fromEdge} against clamped ${clamped}`);
  assert.ok(fromEdge < 2.1 * fromMiddle, `edge ${fromEdge} against middle ${fromMiddle}`);
});

test('clearBorder blanks exactly the border, mapMax finds the maximum', () => {
  const random = new Random(33);
  const map = randomMap(random, 10, 7);
  const cleared = clearBorder(map, 2, 1);
  for (let y = 0; y < 7; y++) for (let x = 0; x < 10; x++) {
    const inside = x >= 2 && x < 8 && y >= 1 && y < 6;
    assert.equal(cleared.data[y * 10 + x], inside ? map.data[y * 10 + x] : 0);
  }
  assert.equal(mapMax(map), Math.max(...map.data));
  assert.equal(clearBorder(map, 0, 0), map);
});
