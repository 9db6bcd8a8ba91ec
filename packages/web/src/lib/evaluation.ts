// A model judged on its held-out images (GET /models/{id}/evaluation): ROC and precision–recall curves, the
// confusion matrix at any threshold, what a new threshold would flip, and the worst misses. NG is the positive class,
// and an image is NG when its score is above the threshold, as the engine decides. Pure functions, tested without a browser.

export interface Scored {
  /** The training label: true OK, false NG. */
  good: boolean;
  score: number;
}

export interface Confusion {
  /** NG called NG, OK called NG, OK called OK, NG called OK. */
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number | null;
  recall: number | null;
}

export function confusionAt(images: readonly Scored[], threshold: number): Confusion {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const image of images) {
    const calledNg = image.score > threshold;
    if (!image.good) calledNg ? tp++ : fn++;
    else calledNg ? fp++ : tn++;
  }
  return { tp, fp, tn, fn, precision: tp + fp > 0 ? tp / (tp + fp) : null, recall: tp + fn > 0 ? tp / (tp + fn) : null };
}

export interface CurvePoint {
  x: number;
  y: number;
  /** The threshold this point is at: images scored above it are called NG. */
  threshold: number;
}

/**
 * The ROC curve (false-positive rate → true-positive rate) from the highest threshold down, one point per distinct
 * score, and its area. Null without both OK and NG images.
 */
export function rocCurve(images: readonly Scored[]): { points: CurvePoint[]; auc: number } | null {
  const positives = images.filter((i) => !i.good).length;
  const negatives = images.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const sorted = [...images].sort((a, b) => b.score - a.score);
  const points: CurvePoint[] = [{ x: 0, y: 0, threshold: Infinity }];
  let tp = 0, fp = 0, auc = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].good) fp++;
    else tp++;
    // Ties move together: one point per distinct score.
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
    const point = { x: fp / negatives, y: tp / positives, threshold: i + 1 < sorted.length ? sorted[i + 1].score : -Infinity };
    const previous = points[points.length - 1];
    auc += (point.x - previous.x) * (point.y + previous.y) / 2;
    points.push(point);
  }
  return { points, auc };
}

/** The precision–recall curve (recall → precision), from the highest threshold down; null without NG images. */
export function prCurve(images: readonly Scored[]): CurvePoint[] | null {
  const positives = images.filter((i) => !i.good).length;
  if (positives === 0) return null;
  const sorted = [...images].sort((a, b) => b.score - a.score);
  const points: CurvePoint[] = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].good) fp++;
    else tp++;
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
    points.push({ x: tp / positives, y: tp / (tp + fp), threshold: i + 1 < sorted.length ? sorted[i + 1].score : -Infinity });
  }
  return points;
}

/** What changes from one threshold to another: which images turn NG (score now above) and which turn OK. */
export function flipsBetween<T extends { score: number }>(images: readonly T[], from: number, to: number): { toNg: T[]; toOk: T[] } {
  const toNg: T[] = [];
  const toOk: T[] = [];
  for (const image of images) {
    const before = image.score > from;
    const after = image.score > to;
    if (!before && after) toNg.push(image);
    else if (before && !after) toOk.push(image);
  }
  return { toNg, toOk };
}

/** The worst misses at a threshold: good images scored highest (false alarms), defects scored lowest (escapes). */
export function worstMisses<T extends Scored>(images: readonly T[], threshold: number, count = 6): { falseAlarms: T[]; escapes: T[] } {
  return {
    falseAlarms: images.filter((i) => i.good && i.score > threshold).sort((a, b) => b.score - a.score).slice(0, count),
    escapes: images.filter((i) => !i.good && i.score <= threshold).sort((a, b) => a.score - b.score).slice(0, count),
  };
}

/** The held-out images two models share (by image), so that they are compared on the same items. */
export function sharedImages<T extends { image_id: number | null }>(a: readonly T[], b: readonly T[]): [T[], T[]] {
  const inB = new Set(b.map((i) => i.image_id).filter((id) => id !== null));
  const inA = new Set(a.map((i) => i.image_id).filter((id) => id !== null));
  return [a.filter((i) => i.image_id !== null && inB.has(i.image_id)), b.filter((i) => i.image_id !== null && inA.has(i.image_id))];
}
