import type { FloatMap } from '../image/raster.ts';

/** Max filter (grey dilation) with a width×height window, separable: O(pixels × (w + h)). */
export function dilate(map: FloatMap, windowWidth: number, windowHeight: number): FloatMap {
  if (windowWidth <= 1 && windowHeight <= 1) return map;
  const { width, height } = map;
  const rows = new Float32Array(width * height);
  const rx0 = Math.floor((windowWidth - 1) / 2);
  const rx1 = windowWidth - 1 - rx0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let m = -Infinity;
      for (let k = Math.max(0, x - rx0); k <= Math.min(width - 1, x + rx1); k++) m = Math.max(m, map.data[row + k]);
      rows[row + x] = m;
    }
  }
  const out = new Float32Array(width * height);
  const ry0 = Math.floor((windowHeight - 1) / 2);
  const ry1 = windowHeight - 1 - ry0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let m = -Infinity;
      for (let k = Math.max(0, y - ry0); k <= Math.min(height - 1, y + ry1); k++) m = Math.max(m, rows[k * width + x]);
      out[y * width + x] = m;
    }
  }
  return { width, height, data: out };
}

/**
 * Gaussian blur, separable. Borders 'clamp' repeat the edge value; 'normalised' average only the values that
 * exist (normalised convolution), so that an edge value weighs no more than any other.
 */
export function gaussianBlur(map: FloatMap, sigma: number, borders: 'clamp' | 'normalised' = 'clamp'): FloatMap {
  if (sigma <= 0) return map;
  if (borders === 'normalised') return normalisedGaussianBlur(map, sigma);
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const kernel = new Float32Array(radius * 2 + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const { width, height } = map;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = x + k < 0 ? 0 : x + k >= width ? width - 1 : x + k;
        acc += map.data[row + xx] * kernel[k + radius];
      }
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const yy = y + k < 0 ? 0 : y + k >= height ? height - 1 : y + k;
        acc += tmp[yy * width + x] * kernel[k + radius];
      }
      out[y * width + x] = acc;
    }
  }
  return { width, height, data: out };
}

function normalisedGaussianBlur(map: FloatMap, sigma: number): FloatMap {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const kernel = new Float64Array(radius * 2 + 1);
  for (let i = -radius; i <= radius; i++) kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const { width, height } = map;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0, weight = 0;
      for (let k = Math.max(-radius, -x); k <= Math.min(radius, width - 1 - x); k++) {
        acc += map.data[row + x + k] * kernel[k + radius];
        weight += kernel[k + radius];
      }
      tmp[row + x] = acc / weight;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0, weight = 0;
      for (let k = Math.max(-radius, -y); k <= Math.min(radius, height - 1 - y); k++) {
        acc += tmp[(y + k) * width + x] * kernel[k + radius];
        weight += kernel[k + radius];
      }
      out[y * width + x] = acc / weight;
    }
  }
  return { width, height, data: out };
}

/** Sets a border of `bx` columns and `by` rows on each side to `value`. */
export function clearBorder(map: FloatMap, bx: number, by: number, value = 0): FloatMap {
  if (bx <= 0 && by <= 0) return map;
  const { width, height } = map;
  const out = new Float32Array(map.data);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < bx || x >= width - bx || y < by || y >= height - by) out[y * width + x] = value;
    }
  }
  return { width, height, data: out };
}

export function mapMax(map: FloatMap): number {
  let m = -Infinity;
  for (let i = 0; i < map.data.length; i++) if (map.data[i] > m) m = map.data[i];
  return m;
}
