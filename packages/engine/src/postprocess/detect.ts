import type { Box } from '../algorithms/types.ts';
import type { FloatMap } from '../image/raster.ts';
import { clearBorder, dilate, mapMax } from './filters.ts';
import { findRegions } from './regions.ts';

/** The prediction-time settings, all changeable without retraining. */
export interface DetectionSettings {
  threshold: number;
  /** Smallest box area reported, in original pixels. */
  minDetectedArea: number;
  /** Smallest region, in working pixels (from `detected_area_thresh` × patch area where an algorithm has it). */
  minRegionPixels: number;
  magnification: [number, number];
  /** Border ignored, in original pixels. */
  ignoreOuter: [number, number];
}

export interface DetectedBox extends Box {
  score: number;
}

export interface Detection {
  /** Calibrated map after magnification and border masking (working resolution). */
  map: FloatMap;
  score: number;
  good: boolean;
  boxes: DetectedBox[];
  /** 0–100: how far the score is from the threshold, relative to it. */
  detectionAccuracy: number;
}

/** Regions are grown down to this fraction of the threshold, so a box covers the whole defect. */
export const REGION_GROW_FRACTION = 0.7;

/**
 * anomaly map → magnification → ignore_outer → threshold → connected regions → boxes in original pixels
 * → verdict. Shared by every algorithm.
 */
export function detect(calibrated: FloatMap, original: { width: number; height: number }, settings: DetectionSettings): Detection {
  const sx = original.width / calibrated.width;
  const sy = original.height / calibrated.height;
  let map = dilate(calibrated, settings.magnification[0], settings.magnification[1]);
  map = clearBorder(map, Math.ceil(settings.ignoreOuter[0] / sx), Math.ceil(settings.ignoreOuter[1] / sy));
  const largest = mapMax(map);
  const score = Math.max(0, largest);
  const threshold = settings.threshold;
  const regions = findRegions(map, threshold, threshold * REGION_GROW_FRACTION, largest);
  const boxes: DetectedBox[] = [];
  for (const r of regions) {
    if (r.area < settings.minRegionPixels) continue;
    const box = {
      x_min: Math.max(0, Math.floor(r.x_min * sx)),
      y_min: Math.max(0, Math.floor(r.y_min * sy)),
      x_max: Math.min(original.width, Math.ceil(r.x_max * sx)),
      y_max: Math.min(original.height, Math.ceil(r.y_max * sy)),
      score: r.peak,
    };
    if ((box.x_max - box.x_min) * (box.y_max - box.y_min) < settings.minDetectedArea) continue;
    boxes.push(box);
  }
  const good = !(score > threshold) && boxes.length === 0;
  const margin = threshold > 0 ? Math.abs(score - threshold) / threshold : 1;
  const detectionAccuracy = Math.round(50 + 50 * Math.min(1, margin));
  return { map, score, good, boxes, detectionAccuracy };
}
