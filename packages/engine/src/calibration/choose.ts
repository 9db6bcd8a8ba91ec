import type { FloatMap } from '../image/raster.ts';
import { auroc } from '../metrics/index.ts';
import { applyCalibration, fitCalibration, type CalibrationMode } from './calibrate.ts';

/** Candidates of calibration 'auto', simplest first: a later one must do better by more than the margin. */
export const AUTO_CALIBRATION_MODES: CalibrationMode[] = ['global', 'border', 'location'];
export const AUTO_CALIBRATION_MARGIN = 0.005;

export function aurocOf(negatives: number[], positives: number[]): number {
  return auroc([...negatives, ...positives], [...negatives.map(() => false), ...positives.map(() => true)]);
}

/**
 * Calibration 'auto': each candidate mode is fitted on the held-out OK maps of one half of the images and judged on the
 * other half (and the other way round) by image AUROC against the defect maps (NG images, or synthetic defects made
 * from those very OK images, index for index): places, border distances or neither — whichever separates defects
 * from good images best. `imageScore` turns a calibrated map into the image's score.
 */
export function chooseCalibration(
  okMaps: FloatMap[], defectMaps: FloatMap[], imageScore: (calibrated: FloatMap) => number,
): { mode: CalibrationMode; scores: Record<string, number> } {
  const scores: Record<string, number> = {};
  if (okMaps.length < 4 || defectMaps.length < 2) return { mode: AUTO_CALIBRATION_MODES[0], scores };
  let best: { mode: CalibrationMode; score: number } | null = null;
  for (const mode of AUTO_CALIBRATION_MODES) {
    const negatives: number[] = [], positives: number[] = [];
    for (let half = 0; half < 2; half++) {
      const calibration = fitCalibration(okMaps.filter((_, i) => i % 2 !== half), mode);
      const scoreOf = (m: FloatMap) => imageScore(applyCalibration(m, calibration));
      negatives.push(...okMaps.filter((_, i) => i % 2 === half).map(scoreOf));
      positives.push(...defectMaps.filter((_, i) => i % 2 === half).map(scoreOf));
    }
    const score = aurocOf(negatives, positives);
    scores[mode] = score;
    if (!best || score > best.score + AUTO_CALIBRATION_MARGIN) best = { mode, score };
  }
  return { mode: best!.mode, scores };
}
