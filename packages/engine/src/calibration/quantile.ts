/**
 * The q-quantile (0..1) of values, linear interpolation between the two order statistics around it: those of a sorted
 * copy. Large inputs (calibration samples up to 2 million pixel values, five times per training) find the two by
 * selection instead of sorting them all, with the same values: ties are equal, and zeros get the sign a sort gives.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const copy = Float64Array.from(values);
  const position = Math.min(Math.max(q, 0), 1) * (copy.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, copy.length - 1);
  const [low, high] = copy.length < SELECT_FROM ? sortedPair(copy, lo, hi) : selectedPair(copy, lo, hi);
  return low + (high - low) * (position - lo);
}

/** The `rank`-th smallest of values (from 0), as a sorted copy holds it; found by selection as `quantile` finds its pair. */
export function orderStatistic(values: ArrayLike<number>, rank: number): number {
  if (!(rank >= 0 && rank < values.length)) return NaN;
  const copy = Float64Array.from(values);
  return (copy.length < SELECT_FROM ? sortedPair(copy, rank, rank) : selectedPair(copy, rank, rank))[0];
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Below this many values a sort is as quick as selection. */
const SELECT_FROM = 4096;

function sortedPair(values: Float64Array, lo: number, hi: number): [number, number] {
  values.sort();
  return [values[lo], values[hi]];
}

/**
 * The lo-th and hi-th (= lo or lo + 1) smallest values, as a sorted copy holds them (a typed array sorts −0 before +0
 * and NaN last): Hoare's selection for the lo-th, the least of what lies above it for the next.
 */
function selectedPair(values: Float64Array, lo: number, hi: number): [number, number] {
  let negatives = 0, negativeZeros = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) return sortedPair(values, lo, hi); // NaN: leave the order to the sort
    if (v < 0) negatives++;
    else if (v === 0 && 1 / v < 0) negativeZeros++;
  }
  let left = 0, right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >> 1];
    let i = left, j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i]; values[i] = values[j]; values[j] = t;
        i++; j--;
      }
    }
    if (lo <= j) right = j;
    else if (lo >= i) left = i;
    else break;
  }
  let next = values[lo];
  if (hi > lo) {
    next = Infinity;
    for (let i = lo + 1; i < values.length; i++) if (values[i] < next) next = values[i];
  }
  // A zero's sign by its rank: a sort puts the −0s right after the negative values.
  const signed = (v: number, rank: number) => (v === 0 ? (rank >= negatives && rank < negatives + negativeZeros ? -0 : 0) : v);
  return [signed(values[lo], lo), signed(next, hi)];
}
