import sharp from 'sharp';
import type { FloatMap } from '../image/raster.ts';
import type { Box } from '../algorithms/types.ts';

/** Inferno colour map, 9 stops (perceptually uniform, readable in grey and by colour-blind people). */
const INFERNO: [number, number, number][] = [
  [0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85],
  [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164],
];

export function infernoColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const a = INFERNO[i], b = INFERNO[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * Heatmap PNG of a calibrated map: the threshold sits at the middle of the scale (0.5), and
 * `anomaly_range` [low, high] picks the part of [0, 2 × threshold] that the colours span.
 */
export async function renderHeatmap(map: FloatMap, threshold: number, range: [number, number] = [0, 1]): Promise<Buffer> {
  const rgb = Buffer.alloc(map.width * map.height * 3);
  const span = Math.max(1e-9, range[1] - range[0]);
  const scale = 1 / Math.max(1e-9, 2 * threshold);
  for (let i = 0; i < map.data.length; i++) {
    const c = infernoColour((map.data[i] * scale - range[0]) / span);
    rgb[i * 3] = c[0];
    rgb[i * 3 + 1] = c[1];
    rgb[i * 3 + 2] = c[2];
  }
  return sharp(rgb, { raw: { width: map.width, height: map.height, channels: 3 } }).png().toBuffer();
}

/** The original image with detected boxes drawn in green (the original service's processed `url`). */
export async function renderOverlay(imageBytes: Uint8Array, boxes: Box[]): Promise<Buffer> {
  const base = sharp(imageBytes, { limitInputPixels: 100_000_000 }).rotate();
  const { width = 1, height = 1 } = await base.clone().png().toBuffer({ resolveWithObject: true }).then((r) => r.info);
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
  const rects = boxes
    .map((b) => `<rect x="${b.x_min}" y="${b.y_min}" width="${Math.max(1, b.x_max - b.x_min)}" height="${Math.max(1, b.y_max - b.y_min)}" fill="none" stroke="#00e040" stroke-width="${stroke}"/>`)
    .join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`);
  return base.composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}

/** A small JPEG for lists (longest side `size`). */
export async function renderThumbnail(imageBytes: Uint8Array, size = 256): Promise<Buffer> {
  return sharp(imageBytes, { limitInputPixels: 100_000_000 })
    .rotate()
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 80 })
    .toBuffer();
}
