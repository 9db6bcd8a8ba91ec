/** The q-quantile (0..1) of values, linear interpolation; sorts a copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const position = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}
