import type { FloatMap } from '../image/raster.ts';

export interface Region {
  /** Bounding box in map pixels: inclusive min, exclusive max. */
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
  area: number;
  /** Highest map value inside the region. */
  peak: number;
}

/**
 * Connected regions (8-connectivity) of pixels above `low` that reach `high` somewhere (hysteresis):
 * a defect is found by its peak and reported at its full extent.
 */
export function findRegions(map: FloatMap, high: number, low = high): Region[] {
  const { width, height, data } = map;
  // Most maps of good images never reach `high`: no region to label.
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  if (!(max > high)) return [];
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  let label = 0;
  for (let start = 0; start < data.length; start++) {
    if (labels[start] !== 0 || !(data[start] > low)) continue;
    label++;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    let xMin = width, yMin = height, xMax = -1, yMax = -1, area = 0, peak = -Infinity;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      area++;
      if (data[p] > peak) peak = data[p];
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && data[q] > low) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    if (peak > high) regions.push({ x_min: xMin, y_min: yMin, x_max: xMax + 1, y_max: yMax + 1, area, peak });
  }
  return regions.sort((a, b) => b.peak - a.peak);
}
