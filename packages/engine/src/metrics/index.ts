import type { FloatMap } from '../image/raster.ts';

/** Area under the ROC curve, exactly, by the Mann–Whitney statistic (ties count one half). */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) (positive[i] ? pos : neg).push(scores[i]);
  return aurocOfSets(Float64Array.from(pos), Float64Array.from(neg));
}

/** AUROC from the scores of positives and negatives; sorts copies. */
export function aurocOfSets(positives: Float32Array | Float64Array, negatives: Float32Array | Float64Array): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  const p = positives.slice().sort();
  const n = negatives.slice().sort();
  // For each positive, count negatives below it (+ half of ties): a merge walk. Both ends only move forward, so
  // maps that are mostly one value (zeros below a noise level) cost O(P + N), not O(P · N) as a tie rescan did.
  let below = 0;
  let equalEnd = 0;
  let u = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    while (below < n.length && n[below] < v) below++;
    if (equalEnd < below) equalEnd = below;
    while (equalEnd < n.length && n[equalEnd] === v) equalEnd++;
    u += below + (equalEnd - below) / 2;
  }
  return u / (p.length * n.length);
}

export interface ThresholdChoice {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
}

/** The threshold (score > threshold ⇒ NG) with the best F1 for NG; midway between neighbouring scores. */
export function bestF1Threshold(scores: ArrayLike<number>, defective: ArrayLike<boolean>): ThresholdChoice {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const totalPositive = order.reduce((n, i) => n + (defective[i] ? 1 : 0), 0);
  let best: ThresholdChoice = { threshold: Infinity, precision: 0, recall: 0, f1: 0 };
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    if (defective[order[k]]) tp++;
    else fp++;
    const next = k + 1 < order.length ? scores[order[k + 1]] : -Infinity;
    if (next === scores[order[k]]) continue; // a threshold cannot split equal scores
    const precision = tp / (tp + fp);
    const recall = totalPositive ? tp / totalPositive : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) {
      const threshold = Number.isFinite(next) ? (scores[order[k]] + next) / 2 : scores[order[k]] - Math.abs(scores[order[k]]) * 0.01 - 1e-9;
      best = { threshold, precision, recall, f1 };
    }
  }
  return best;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Confusion counts at a threshold; NG is the positive class. */
export function confusionAt(scores: ArrayLike<number>, defective: ArrayLike<boolean>, threshold: number): Confusion {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const ng = scores[i] > threshold;
    if (defective[i]) ng ? tp++ : fn++;
    else ng ? fp++ : tn++;
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, tn, fn, precision, recall, f1 };
}

/** Pixel AUROC over many maps and their binary masks (mask > 0.5 = defect). */
export function pixelAuroc(maps: FloatMap[], masks: FloatMap[]): number {
  let nPos = 0, nNeg = 0;
  for (const m of masks) for (const v of m.data) v > 0.5 ? nPos++ : nNeg++;
  const pos = new Float32Array(nPos);
  const neg = new Float32Array(nNeg);
  let ip = 0, ineg = 0;
  maps.forEach((map, k) => {
    const mask = masks[k].data;
    for (let i = 0; i < map.data.length; i++) mask[i] > 0.5 ? (pos[ip++] = map.data[i]) : (neg[ineg++] = map.data[i]);
  });
  return aurocOfSets(pos, neg);
}

/**
 * Area under the per-region-overlap curve up to `maxFpr` (30 %), normalised to [0, 1] (MVTec AD's AUPRO).
 * Thresholds are taken at quantiles of normal-pixel scores, `steps` of them.
 */
export function aupro(maps: FloatMap[], masks: FloatMap[], maxFpr = 0.3, steps = 200): number {
  const negatives: number[] = [];
  const components: Float32Array[] = [];
  maps.forEach((map, k) => {
    const mask = masks[k];
    for (let i = 0; i < map.data.length; i++) if (!(mask.data[i] > 0.5)) negatives.push(map.data[i]);
    // Each connected defect region counts once, whatever its size.
    const labelled = labelComponents(mask);
    for (let r = 1; r <= labelled.count; r++) {
      const values: number[] = [];
      for (let i = 0; i < mask.data.length; i++) if (labelled.labels[i] === r) values.push(map.data[i]);
      components.push(Float32Array.from(values).sort());
    }
  });
  if (components.length === 0 || negatives.length === 0) return NaN;
  const neg = Float32Array.from(negatives).sort();
  let area = 0;
  let prevFpr = 0;
  let prevPro = 1;
  for (let s = 0; s <= steps; s++) {
    const fpr = (maxFpr * s) / steps;
    // threshold such that a fraction `fpr` of negatives is above it
    const index = Math.min(neg.length - 1, Math.max(0, Math.floor((1 - fpr) * neg.length) - (s === 0 ? 0 : 1)));
    const threshold = s === 0 ? neg[neg.length - 1] : neg[index];
    let pro = 0;
    for (const c of components) pro += (c.length - upperBound(c, threshold)) / c.length;
    pro /= components.length;
    if (s > 0) area += ((pro + prevPro) / 2) * (fpr - prevFpr);
    prevFpr = fpr;
    prevPro = pro;
  }
  return area / maxFpr;
}

function upperBound(sorted: Float32Array, value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** 8-connected labels of mask > 0.5. */
export function labelComponents(mask: FloatMap): { labels: Int32Array; count: number } {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  const stack: number[] = [];
  let count = 0;
  for (let s = 0; s < data.length; s++) {
    if (labels[s] || !(data[s] > 0.5)) continue;
    labels[s] = ++count;
    stack.push(s);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width, y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (!labels[q] && data[q] > 0.5) { labels[q] = count; stack.push(q); }
      }
    }
  }
  return { labels, count };
}
