// Score histogram of OK versus NG items, shared by the dashboard and its test.

export interface ScoredVerdict {
  score: number;
  label: 'OK' | 'NG';
}

export interface HistogramBin {
  from: number;
  to: number;
  ok: number;
  ng: number;
}

/** `binCount` equal bins spanning the scores and the threshold, so the threshold line always falls inside. */
export function scoreHistogram(scores: readonly ScoredVerdict[], threshold: number | null, binCount = 20): HistogramBin[] {
  const values = scores.map((s) => s.score).filter(Number.isFinite);
  if (threshold !== null && Number.isFinite(threshold)) values.push(threshold);
  if (values.length === 0) return [];
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high === low) {
    low -= 0.5;
    high += 0.5;
  }
  const width = (high - low) / binCount;
  const bins: HistogramBin[] = Array.from({ length: binCount }, (_, i) => ({ from: low + i * width, to: low + (i + 1) * width, ok: 0, ng: 0 }));
  for (const { score, label } of scores) {
    if (!Number.isFinite(score)) continue;
    const index = Math.min(binCount - 1, Math.floor((score - low) / width));
    if (label === 'NG') bins[index].ng++;
    else bins[index].ok++;
  }
  return bins;
}
