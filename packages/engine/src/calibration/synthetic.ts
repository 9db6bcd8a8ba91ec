import type { PixelBox, Raster } from '../image/raster.ts';
import { Random } from '../kernels/random.ts';

/**
 * Synthetic defects made from a good image itself, so that AutoTune can compare candidates when only OK
 * images exist: a blob of the image is replaced by a shifted, re-toned copy of another part of it
 * (like a chip, stain or foreign matter), or crossed by a thin scratch.
 */
export function synthesizeDefect(raster: Raster, random: Random): Raster {
  return synthesizeDefectWithin(raster, random).raster;
}

/**
 * `synthesizeDefect` (the same raster for the same draws), with the box of the pixels it changed: outside it the
 * raster is the original's, so a map of it may reuse the original's (see `AlgorithmDefinition.compactAnomalyMap`).
 */
export function synthesizeDefectWithin(raster: Raster, random: Random): { raster: Raster; changed: PixelBox } {
  const { width, height, channels } = raster;
  const data = new Float32Array(raster.data);
  const short = Math.min(width, height);
  const changed: PixelBox = { x0: width, y0: height, x1: 0, y1: 0 };
  const touch = (x: number, y: number) => {
    if (x < changed.x0) changed.x0 = x;
    if (x + 1 > changed.x1) changed.x1 = x + 1;
    if (y < changed.y0) changed.y0 = y;
    if (y + 1 > changed.y1) changed.y1 = y + 1;
  };
  if (random.next() < 0.5) {
    const rx = Math.max(2, Math.round(short * (0.04 + random.next() * 0.08)));
    const ry = Math.max(2, Math.round(short * (0.04 + random.next() * 0.08)));
    const cx = Math.round(width * (0.25 + random.next() * 0.5));
    const cy = Math.round(height * (0.25 + random.next() * 0.5));
    const sx = random.int(width), sy = random.int(height);
    const gain = 0.6 + random.next() * 0.8;
    const shift = (random.next() - 0.5) * 0.3;
    for (let y = cy - ry; y <= cy + ry; y++) {
      for (let x = cx - rx; x <= cx + rx; x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (d > 1) continue;
        touch(x, y);
        const srcX = Math.min(width - 1, Math.max(0, sx + x - cx));
        const srcY = Math.min(height - 1, Math.max(0, sy + y - cy));
        for (let c = 0; c < channels; c++) {
          const v = raster.data[(srcY * width + srcX) * channels + c] * gain + shift;
          data[(y * width + x) * channels + c] = Math.min(1, Math.max(0, v));
        }
      }
    }
  } else {
    const length = short * (0.15 + random.next() * 0.25);
    const angle = random.next() * Math.PI;
    const cx = width * (0.3 + random.next() * 0.4), cy = height * (0.3 + random.next() * 0.4);
    const tone = random.next() < 0.5 ? 0.1 : 0.9;
    const halfWidth = Math.max(0.75, short * 0.006);
    for (let t = -length / 2; t <= length / 2; t += 0.5) {
      const px = cx + Math.cos(angle) * t, py = cy + Math.sin(angle) * t;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const x = Math.round(px + dx), y = Math.round(py + dy);
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        if (Math.hypot(x - px, y - py) > halfWidth) continue;
        touch(x, y);
        for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = tone;
      }
    }
  }
  return { raster: { width, height, channels, data }, changed };
}
