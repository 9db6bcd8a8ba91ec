import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePatches, fitPatchDescriptors } from '../src/features/patch-descriptors.ts';
import type { Raster } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';

/** A colour raster: smooth shading plus noise, and a bright square whose place depends on `shift`. */
function scene(width: number, height: number, random: Random, shift = 0): Raster {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const square = x >= 10 + shift && x < 22 + shift && y >= 12 && y < 24;
    const base = 0.3 + 0.2 * Math.sin(x / 7) * Math.cos(y / 5) + (square ? 0.4 : 0) + random.next() * 0.05;
    data.set([base, base * 0.8, base * 0.5 + 0.1], (y * width + x) * 3);
  }
  return { width, height, channels: 3, data };
}

test('descriptors equal a direct computation from the pixels (colour statistics, gradients, PCA)', () => {
  const random = new Random(1);
  const images = Array.from({ length: 4 }, () => scene(40, 36, random));
  const { model, rows } = fitPatchDescriptors(images, { patchWidth: 8, patchHeight: 8, step: 4, random: new Random(2), samplePatches: 400 });
  assert.equal(rows.length % model.dims, 0);
  const image = images[1];
  const { grid, data, dims } = describePatches(model, image);
  const raw = (p: number, k: number) => data[p * dims + k] / model.scale[k] + model.center[k];
  const grey = (x: number, y: number) => {
    const cx = Math.min(image.width - 1, Math.max(0, x)), cy = Math.min(image.height - 1, Math.max(0, y));
    const i = (cy * image.width + cx) * 3;
    return 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
  };
  for (const p of [0, 7, grid.columns * 3 + 4, grid.columns * grid.rows - 1]) {
    const x0 = grid.xs[p % grid.columns], y0 = grid.ys[Math.floor(p / grid.columns)];
    let sum = 0, sumSq = 0, opponent = 0, energy = 0, laplacian = 0;
    const pixels: number[] = [];
    for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) {
      const g = grey(x, y);
      const i = (y * image.width + x) * 3;
      sum += g; sumSq += g * g; pixels.push(g);
      opponent += image.data[i] - image.data[i + 1];
      const gx = (grey(x + 1, y - 1) + 2 * grey(x + 1, y) + grey(x + 1, y + 1) - grey(x - 1, y - 1) - 2 * grey(x - 1, y) - grey(x - 1, y + 1)) / 8;
      const gy = (grey(x - 1, y + 1) + 2 * grey(x, y + 1) + grey(x + 1, y + 1) - grey(x - 1, y - 1) - 2 * grey(x, y - 1) - grey(x + 1, y - 1)) / 8;
      energy += gx * gx + gy * gy;
      laplacian += Math.abs(grey(x - 1, y) + grey(x + 1, y) + grey(x, y - 1) + grey(x, y + 1) - 4 * g);
    }
    const mean = sum / 64;
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-4 * (1 + Math.abs(b)), `patch ${p} ${what}: ${a} vs ${b}`);
    close(raw(p, 0), mean, 'grey mean');
    close(raw(p, 1), Math.sqrt(sumSq / 64 - mean * mean), 'grey std');
    close(raw(p, 2), opponent / 64, 'R−G mean');
    close(raw(p, 6), energy / 64, 'gradient energy');
    close(raw(p, 11), laplacian / 64, '|Laplacian|');
    // PCA: projection of the mean-removed patch on the stored basis.
    const size = 64;
    for (let c = 0; c < model.pcaComponents; c++) {
      let dot = 0;
      for (let k = 0; k < size; k++) dot += (pixels[k] - mean - model.pcaMean[k]) * model.pcaBasis[c * size + k];
      close(raw(p, 14 + c), dot, `PCA component ${c}`);
    }
  }
  // The basis is orthonormal.
  for (let a = 0; a < model.pcaComponents; a++) for (let b = 0; b < model.pcaComponents; b++) {
    let dot = 0;
    for (let k = 0; k < 64; k++) dot += model.pcaBasis[a * 64 + k] * model.pcaBasis[b * 64 + k];
    assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-4);
  }
});

test('position counts where the product is aligned, hardly where it is not', () => {
  const random = new Random(3);
  const aligned = Array.from({ length: 6 }, () => scene(48, 40, random));
  const moving = Array.from({ length: 6 }, (_, k) => scene(48, 40, random, (k * 5) % 24));
  // A pure texture (noise only): position explains nothing.
  const texture = Array.from({ length: 6 }, () => {
    const data = new Float32Array(48 * 40 * 3);
    for (let i = 0; i < data.length; i++) data[i] = random.next();
    return { width: 48, height: 40, channels: 3, data };
  });
  const weight = (images: Raster[]) => fitPatchDescriptors(images, { patchWidth: 8, patchHeight: 8, step: 4, random: new Random(4), samplePatches: 2000 }).model.positionWeight;
  const a = weight(aligned), m = weight(moving), t = weight(texture);
  assert.ok(a > m, `aligned ${a} vs moving ${m}`);
  assert.ok(m > t, `moving ${m} vs texture ${t}`);
  // Not zero: windows clipped at the image border make border patches differ a little.
  assert.ok(t < 0.25, `texture ${t}`);
});

test('with logMagnitudes, spreads and gradient features are the logarithms of the plain ones', () => {
  const random = new Random(6);
  const images = Array.from({ length: 3 }, () => scene(40, 36, random));
  const options = { patchWidth: 8, patchHeight: 8, step: 4, samplePatches: 300 };
  const plain = fitPatchDescriptors(images, { ...options, random: new Random(7) }).model;
  const logged = fitPatchDescriptors(images, { ...options, random: new Random(7), logMagnitudes: true }).model;
  const a = describePatches(plain, images[0]);
  const b = describePatches(logged, images[0]);
  const raw = (m: typeof plain, d: typeof a, p: number, k: number) => d.data[p * d.dims + k] / m.scale[k] + m.center[k];
  for (const p of [0, 10, 20]) {
    for (const k of [1, 3, 5, 6, 7, 11, 13]) {
      const expected = Math.log(raw(plain, a, p, k) + 1e-3);
      assert.ok(Math.abs(raw(logged, b, p, k) - expected) < 1e-3 * (1 + Math.abs(expected)), `patch ${p} feature ${k}`);
    }
    // Means are untouched.
    assert.ok(Math.abs(raw(logged, b, p, 0) - raw(plain, a, p, 0)) < 1e-5);
  }
});
