/**
 * Turns a detector's per-patch outlier score into a non-negative anomaly value with a chosen zero point:
 * `offset` is the score that only a `contamination` share of the training patches exceed (as
 * scikit-learn's `offset_`), and the value is a softplus of the excess in units of the scores' spread —
 * near zero for ordinary patches, linear for outliers, never exactly zero (calibration divides by
 * quantiles of good images' values, which must not vanish).
 */
export interface OutlierMargin {
  [key: string]: number;
  offset: number;
  spread: number;
}

export function fitOutlierMargin(trainingScores: ArrayLike<number>, contamination: number): OutlierMargin {
  const sorted = Float64Array.from(trainingScores).sort();
  const n = sorted.length;
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))];
  const offset = at(1 - contamination);
  // Interquartile range as a robust spread, with a floor for near-constant scores.
  const spread = Math.max(at(0.75) - at(0.25), 1e-6 * (Math.abs(offset) + 1));
  return { offset, spread };
}

export function outlierMargin(score: number, margin: OutlierMargin): number {
  const z = (score - margin.offset) / margin.spread;
  // softplus(z) = log(1 + e^z), computed without overflow.
  const softplus = z > 30 ? z : Math.log1p(Math.exp(z));
  return margin.spread * softplus;
}
