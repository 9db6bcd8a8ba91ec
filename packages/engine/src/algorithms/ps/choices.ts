import { aurocOfSets } from '../../metrics/index.ts';
import { synthesizeDefect } from '../../calibration/synthetic.ts';
import type { Raster } from '../../image/raster.ts';
import { buildKnnIndex, searchKnn } from '../../kernels/knn.ts';
import { Random } from '../../kernels/random.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { featureStatistics, rawDescriptors, type DescriptorSettings } from './descriptors.ts';

/**
 * Held-out checks that decide, from the training images alone, the feature settings that differ between products.
 * A probe is a small PS without the coreset: half of a few training images give a random bank of standardised
 * patches, the other half and synthetic defects made from them (`synthesizeDefect`) are scored by their largest
 * smoothed nearest-neighbour distance, and the image AUROC of defects against good images, both halves in turn,
 * says how well those settings separate what a defect changes from what varies between good images.
 */
export interface ProbeOptions {
  /** Training images the probe uses at most (drawn by the seed). */
  images: number;
  /** Bank patches per half. */
  bankSize: number;
  /** Smoothing of the patch scores, in grid steps (as PS's maps). */
  smoothing: number;
  /**
   * How much of each synthetic defect is blended in: full-strength ones (tone 0.1 or 0.9 scratches, re-toned blobs)
   * stand out under any settings, so the probe's AUROC would saturate near 1 and tell nothing.
   */
  defectStrength: number;
  seed: number;
}

/** Share of the patch grid left out at each side when the probe takes an image's score (synthetic defects lie inside). */
const INTERIOR = 0.15;

export const DEFAULT_PROBE: Omit<ProbeOptions, 'seed'> = { images: 24, bankSize: 4000, smoothing: 2, defectStrength: 0.35 };

/** `original` + strength × (`defect` − `original`). */
function faint(original: Raster, defect: Raster, strength: number): Raster {
  const data = new Float32Array(original.data.length);
  for (let i = 0; i < data.length; i++) data[i] = original.data[i] + strength * (defect.data[i] - original.data[i]);
  return { ...original, data };
}

/** Probe AUROC of each candidate settings (same order), or null when there are too few images for halves. */
export function probeSettings(rasters: Raster[], candidates: DescriptorSettings[], options: ProbeOptions): number[] | null {
  if (rasters.length < 4) return null;
  const random = new Random(options.seed + 41);
  const chosen = random.sample(rasters.length, options.images).sort((a, b) => a - b).map((i) => rasters[i]);
  // The same defects for every candidate: made once, from the seed.
  const defects = chosen.map((r) => faint(r, synthesizeDefect(r, random), options.defectStrength));
  return candidates.map((settings) => {
    const good = chosen.map((r) => rawDescriptors(r, settings));
    const bad = defects.map((r) => rawDescriptors(r, settings));
    const goodScores: number[] = [], badScores: number[] = [];
    for (let half = 0; half < 2; half++) {
      const bankImages = good.filter((_, i) => i % 2 !== half);
      const dims = bankImages[0].dims;
      const pool = new Float32Array(bankImages.reduce((s, d) => s + d.data.length, 0));
      let o = 0;
      for (const d of bankImages) { pool.set(d.data, o); o += d.data.length; }
      const { mean, scale } = featureStatistics(pool, dims);
      const standardise = (data: Float32Array) => data.map((v, i) => (v - mean[i % dims]) * scale[i % dims]);
      const picks = new Random(options.seed + half).sample(pool.length / dims, options.bankSize);
      const bank = new Float32Array(picks.length * dims);
      picks.forEach((p, i) => bank.set(pool.subarray(p * dims, p * dims + dims), i * dims));
      const index = buildKnnIndex(standardise(bank), dims);
      const scoreOf = (d: (typeof good)[number]) => {
        const { distances } = searchKnn(index, standardise(d.data), 1);
        const grid = { width: d.grid.columns, height: d.grid.rows, data: distances.map(Math.sqrt) };
        const smooth = options.smoothing > 0 ? gaussianBlur(grid, options.smoothing, 'normalised') : grid;
        // The interior only: the synthetic defects lie there, and borders (which vary most on tiles) are calibrated apart.
        let max = 0;
        for (let gy = 0; gy < grid.height; gy++) {
          if (gy < grid.height * INTERIOR || gy >= grid.height * (1 - INTERIOR)) continue;
          for (let gx = 0; gx < grid.width; gx++) {
            if (gx >= grid.width * INTERIOR && gx < grid.width * (1 - INTERIOR)) max = Math.max(max, smooth.data[gy * grid.width + gx]);
          }
        }
        return max;
      };
      good.forEach((d, i) => { if (i % 2 === half) goodScores.push(scoreOf(d)); });
      bad.forEach((d, i) => { if (i % 2 === half) badScores.push(scoreOf(d)); });
    }
    return aurocOfSets(Float64Array.from(badScores), Float64Array.from(goodScores));
  });
}
