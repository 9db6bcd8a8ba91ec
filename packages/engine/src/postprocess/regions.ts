import type { FloatMap } from '../image/raster.ts';
import { mapMax } from './filters.ts';

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

/** Maps up to this many pixels share one scratch (5 MB at most, kept); larger ones (stitched tiles) get their own. */
const KEPT_SCRATCH_PIXELS = 1 << 20;

/** Labels (cleared) and a seed stack for `findRegions`, reused between calls: maps of one size follow each other. */
let labelledScratch = new Uint8Array(0), seedsScratch = new Int32Array(0);
function regionScratch(pixels: number): { labelled: Uint8Array; seeds: Int32Array } {
  if (pixels > KEPT_SCRATCH_PIXELS) return { labelled: new Uint8Array(pixels), seeds: new Int32Array(pixels) };
  if (labelledScratch.length < pixels) {
    labelledScratch = new Uint8Array(pixels);
    seedsScratch = new Int32Array(pixels);
  } else {
    labelledScratch.fill(0, 0, pixels);
  }
  return { labelled: labelledScratch.subarray(0, pixels), seeds: seedsScratch };
}

/**
 * Connected regions (8-connectivity) of pixels above `low` that reach `high` somewhere (hysteresis):
 * a defect is found by its peak and reported at its full extent. `max`: the map's largest value, when the caller knows it.
 */
export function findRegions(map: FloatMap, high: number, low = high, max = mapMax(map)): Region[] {
  const { width, height, data } = map;
  // Most maps of good images never reach `high`: no region to label.
  if (!(max > high)) return [];
  const { labelled, seeds } = regionScratch(width * height);
  const regions: (Region & { first: number })[] = [];
  // Only regions that reach `high` are kept, so only they are grown: from their first pixel above `high`.
  for (let start = 0; start < data.length; start++) {
    if (labelled[start] !== 0 || !(data[start] > high)) continue;
    let xMin = width, yMin = height, xMax = -1, yMax = -1, area = 0, peak = -Infinity, first = start;
    // Grown by runs along rows: a seed's run is extended both ways, then each neighbouring row's stretch under the run
    // (one pixel wider each side: 8-connectivity) gets one seed per run of unlabelled pixels above `low`.
    let top = 0;
    seeds[top++] = start;
    labelled[start] = 1;
    while (top > 0) {
      const seed = seeds[--top];
      const y = Math.floor(seed / width), row = y * width;
      let x0 = seed - row, x1 = x0;
      while (x0 > 0 && labelled[row + x0 - 1] === 0 && data[row + x0 - 1] > low) labelled[row + --x0] = 1;
      while (x1 < width - 1 && labelled[row + x1 + 1] === 0 && data[row + x1 + 1] > low) labelled[row + ++x1] = 1;
      // The run is this seed's and the pixels its extension labelled: each pixel is counted once.
      for (let p = row + x0; p <= row + x1; p++) if (data[p] > peak) peak = data[p];
      area += x1 - x0 + 1;
      if (row + x0 < first) first = row + x0;
      if (x0 < xMin) xMin = x0;
      if (x1 > xMax) xMax = x1;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
      for (let ny = y - 1; ny <= y + 1; ny += 2) {
        if (ny < 0 || ny >= height) continue;
        const near = ny * width;
        let inRun = false;
        for (let x = Math.max(0, x0 - 1), end = Math.min(width - 1, x1 + 1); x <= end; x++) {
          const q = near + x;
          if (labelled[q] === 0 && data[q] > low) {
            if (!inRun) {
              labelled[q] = 1;
              seeds[top++] = q;
            }
            inRun = true;
          } else {
            inRun = false;
          }
        }
      }
    }
    regions.push({ x_min: xMin, y_min: yMin, x_max: xMax + 1, y_max: yMax + 1, area, peak, first });
  }
  // Equal peaks in the order of the regions' first pixels (row-major), whichever pixel each was grown from.
  return regions.sort((a, b) => b.peak - a.peak || a.first - b.first).map(({ first, ...region }) => region);
}
