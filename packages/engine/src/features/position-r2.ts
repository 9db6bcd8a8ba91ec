/**
 * How much of the patch features' variance the patch position explains: patches are grouped by position into
 * the cells of a coarse grid, and R² = between-cell sum of squares / total sum of squares (over all features,
 * each standardised), less the share that noise alone would explain with that many cells (cells / patches).
 * High for aligned parts (the same thing is always at the same place), near zero for free placement.
 *
 * `rows` holds `stride` values per patch, of which the first `features` are used; `centres` the patch centre
 * (x, y, fractions of the image) of each row. With `standardisation`, each feature is first centred and scaled by
 * it; without, the rows must be standardised already.
 */
export function positionR2(
  rows: Float32Array, stride: number, features: number, centres: Float32Array, cellsPerSide: number,
  standardisation?: { center: Float32Array; scale: Float32Array },
): number {
  const n = rows.length / stride;
  const cells = cellsPerSide * cellsPerSide;
  const count = new Float64Array(cells);
  const sum = new Float64Array(cells * features);
  const totalSum = new Float64Array(features), totalSq = new Float64Array(features);
  for (let i = 0; i < n; i++) {
    const cx = Math.min(cellsPerSide - 1, Math.max(0, Math.floor(centres[2 * i] * cellsPerSide)));
    const cy = Math.min(cellsPerSide - 1, Math.max(0, Math.floor(centres[2 * i + 1] * cellsPerSide)));
    const c = cy * cellsPerSide + cx;
    count[c]++;
    for (let j = 0; j < features; j++) {
      const raw = rows[i * stride + j];
      const v = standardisation ? (raw - standardisation.center[j]) * standardisation.scale[j] : raw;
      sum[c * features + j] += v;
      totalSum[j] += v;
      totalSq[j] += v * v;
    }
  }
  let between = 0, total = 0;
  for (let j = 0; j < features; j++) {
    const grand = (totalSum[j] * totalSum[j]) / n;
    total += totalSq[j] - grand;
    let explained = 0;
    for (let c = 0; c < cells; c++) if (count[c] > 0) explained += (sum[c * features + j] * sum[c * features + j]) / count[c];
    between += explained - grand;
  }
  if (total <= 0) return 0;
  return Math.max(0, Math.min(1, between / total - cells / n));
}
