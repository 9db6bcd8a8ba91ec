import { MapReader } from '../image/raster.ts';
import { auroc } from '../metrics/index.ts';
import { fitCalibrations, largestCalibrated, meanGain, type CalibrationFitOptions, type CalibrationMode, type HeldOutMap } from './calibrate.ts';
import { quantile } from './quantile.ts';

/** Candidates of calibration 'auto' (unless the algorithm names its own), simplest first: a later one must be more sensitive in both held-out halves. */
export const AUTO_CALIBRATION_MODES: CalibrationMode[] = ['global', 'border', 'location'];
/** The held-out OK image score that stands for the threshold (as the OK-only threshold's quantile). */
const THRESHOLD_QUANTILE = 0.9;

export function aurocOf(negatives: number[], positives: number[]): number {
  return auroc([...negatives, ...positives], [...negatives.map(() => false), ...positives.map(() => true)]);
}

/**
 * Calibration 'auto': which of global, border-distance or position calibration makes a defect stand out most above
 * good images. Each mode is fitted on the held-out OK maps of one half of the images and judged on the other half (and
 * the other way round) by its *sensitivity*: what a raw rise of one unit at a random place in the middle of an image
 * becomes after calibration (the mean of 1 / level there, see `meanGain`), divided by what good images reach (the 90th percentile of their
 * calibrated image scores — an image's score is the largest value of its calibrated map, as the engine scores images —
 * i.e. about the threshold). A defect of a given raw size is found when it clears that.
 * A later candidate wins only when it is more sensitive in *each* half: with few images one half's 90th
 * percentile is nearly its largest score, and one unusual good image then decides (the cookies, 31 images, measured
 * over the whole frame: border 1.13× global in one half, 0.99× in the other, and border lost 0.03 image AUROC there; the
 * magnetic tiles: 1.20× and 1.13×). The scores are the means of the two halves.
 * Synthetic defects made from the images were tried as the judge first: they are too unlike real ones (cookies: their
 * held-out AUROC 0.64 against a real 0.97), so they chose by noise.
 */
export function chooseCalibration(
  okMaps: readonly HeldOutMap[], candidates: CalibrationMode[] = AUTO_CALIBRATION_MODES, options: CalibrationFitOptions = {},
): { mode: CalibrationMode; scores: Record<string, number> } {
  const scores: Record<string, number> = {};
  if (okMaps.length < 4) return { mode: candidates[0], scores };
  // Each half's calibrations are fitted together and each held-out map is expanded once for all of them: held-out maps
  // are kept compact (hundreds at 512 px), and expanding one is the dearest step here. Each candidate's sensitivity in
  // each half is as if measured alone.
  const byHalf = candidates.map(() => [0, 0]);
  const reader = new MapReader();
  for (let half = 0; half < 2; half++) {
    const calibrations = fitCalibrations(okMaps.filter((_, i) => i % 2 !== half), candidates, options);
    const heldOut = okMaps.filter((_, i) => i % 2 === half);
    const goodScores = candidates.map((): number[] => []);
    for (const m of heldOut) {
      const expanded = reader.read(m);
      calibrations.forEach((calibration, c) => goodScores[c].push(largestCalibrated(expanded, calibration)));
    }
    calibrations.forEach((calibration, c) => {
      // A unit rise's mean gain depends on the map's size alone: measured once per size (maps mostly share one).
      const gainBySize = new Map<string, number>();
      const unitGain = (width: number, height: number) => {
        const key = `${width}x${height}`;
        let gain = gainBySize.get(key);
        if (gain === undefined) {
          gain = meanGain(calibration, width, height);
          gainBySize.set(key, gain);
        }
        return gain;
      };
      const gain = heldOut.reduce((sum, m) => sum + unitGain(m.width, m.height), 0) / heldOut.length;
      byHalf[c][half] = gain / Math.max(quantile(goodScores[c], THRESHOLD_QUANTILE), 1e-9);
    });
  }
  candidates.forEach((mode, c) => { scores[mode] = (byHalf[c][0] + byHalf[c][1]) / 2; });
  return { mode: candidates[winnerOfHalves(byHalf)], scores };
}

/**
 * The candidate chosen from each candidate's sensitivity in each half (the default first): a later one replaces the best so
 * far only when it is more sensitive in every half. (It had to be 5 % more sensitive until 2026-12-06, when sensitivity was
 * measured over the whole frame; measured in its middle, the margin only kept border on the turned aliens, global 1.01×
 * and 1.11× as sensitive, where global scores 0.935 image AUROC against 0.831. Maps alike everywhere still keep global:
 * 30 seeds of 30.)
 */
export function winnerOfHalves(byHalf: readonly (readonly number[])[]): number {
  let best = 0;
  for (let c = 1; c < byHalf.length; c++) {
    if (byHalf[c].every((score, half) => score > byHalf[best][half])) best = c;
  }
  return best;
}
