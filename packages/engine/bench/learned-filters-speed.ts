/**
 * Speed of the learned-filter planes (`learnedFilterPlanes`) against the reference implementation kept below (the
 * version before the speed-up), on real images: fits the filters (PS's defaults, residual plane only unless
 * `--activations`) on 20 train/good images per set at working size 512, then times both on 10 other images at levels
 * 0 and 1 (CPU ms per image, best of 3) and reports the largest difference between their planes, relative to the
 * plane's largest value. Light: a few seconds of one core per set.
 *
 *   node --import tsx packages/engine/bench/learned-filters-speed.ts [--activations] [--fit N] [--test N] DATASET_DIR …
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../src/image/decode.ts';
import { lightnessPyramid } from '../src/features/filter-bank.ts';
import { fitLearnedFilters, learnedFilterPlanes, normalisedNeighbourhood, type LearnedFilters } from '../src/features/learned-filters.ts';
import type { FloatMap } from '../src/image/raster.ts';
import { Random } from '../src/kernels/random.ts';
import { DEFAULT_LEARNED_FILTERS } from '../src/algorithms/ps/index.ts';

const args = process.argv.slice(2);
let fitCount = 20, testCount = 10, activations = false;
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--fit') fitCount = Number(args[++i]);
  else if (args[i] === '--test') testCount = Number(args[++i]);
  else if (args[i] === '--activations') activations = true;
  else roots.push(args[i]);
}

/** The implementation before the speed-up (commit aae2b7a), verbatim but for its neighbourhoods, which fitting still gathers with `normalisedNeighbourhood`: the reference the planes are compared with. */
function referencePlanes(plane: FloatMap, filters: LearnedFilters): { width: number; height: number; planes: Float32Array[] } {
  const { size, contrastFloor, whitenedDims, whitening, restGain, keptScales, mean, centroids, threshold } = filters;
  const dims = size * size;
  const count = centroids.length / whitenedDims;
  const width = (plane.width + 1) >> 1, height = (plane.height + 1) >> 1;
  const activations = filters.activations ? count : 0;
  const planes = Array.from({ length: activations + 1 }, () => new Float32Array(width * height));
  const neighbourhood = new Float64Array(dims);
  const y = new Float64Array(whitenedDims);
  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      normalisedNeighbourhood(plane, 2 * gx, 2 * gy, size, contrastFloor, neighbourhood);
      let energy = 0;
      for (let k = 0; k < dims; k++) energy += (neighbourhood[k] -= mean[k]) ** 2;
      let norm = 0;
      for (let c = 0, o = 0; c < whitenedDims; c++, o += dims) {
        let dot = 0;
        for (let k = 0; k < dims; k++) dot += whitening[o + k] * neighbourhood[k];
        y[c] = dot;
        norm += dot * dot;
        energy -= (dot * keptScales[c]) ** 2;
      }
      norm += restGain * Math.max(0, energy);
      let best = 0;
      const at = gy * width + gx;
      for (let c = 0, o = 0; c < count; c++, o += whitenedDims) {
        let dot = 0;
        for (let k = 0; k < whitenedDims; k++) dot += centroids[o + k] * y[k];
        if (Math.abs(dot) > best) best = Math.abs(dot);
        if (activations) planes[c][at] = Math.max(0, dot - threshold);
      }
      planes[activations][at] = Math.sqrt(Math.max(0, norm - best * best));
    }
  }
  return { width, height, planes };
}

function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function pyramids(files: string[]): Promise<FloatMap[][]> {
  const out: FloatMap[][] = [];
  for (const file of files) {
    const { raster } = await decodeImage(new Uint8Array(await readFile(file)), { maxSide: 512 });
    out.push(lightnessPyramid(raster, { normalise: 'none' }, 2));
  }
  return out;
}

for (const root of roots) {
  const dir = join(root, 'train', 'good');
  const names = (await readdir(dir)).filter((n) => /\.(png|jpe?g|bmp|tiff?)$/i.test(n)).sort();
  const order = new Random(7).sample(names.length, Math.min(names.length, fitCount + testCount)).map((i) => join(dir, names[i]));
  const fitImages = await pyramids(order.slice(0, fitCount));
  const testImages = await pyramids(order.slice(fitCount));
  const options = { ...DEFAULT_LEARNED_FILTERS, planes: activations ? 'both' as const : 'residual' as const };
  const random = new Random(71);
  for (const level of [0, 1]) {
    const filters = fitLearnedFilters(fitImages.map((p) => p[level]), level, options, random);
    let worst = 0;
    const times = { reference: Infinity, current: Infinity };
    for (let round = 0; round < 3; round++) {
      let reference = 0, current = 0;
      for (const pyramid of testImages) {
        const plane = pyramid[level];
        let a!: ReturnType<typeof referencePlanes>, b!: ReturnType<typeof referencePlanes>;
        reference += cpuMs(() => { a = referencePlanes(plane, filters); });
        current += cpuMs(() => { b = learnedFilterPlanes(plane, filters); });
        if (round === 0) {
          for (let p = 0; p < a.planes.length; p++) {
            let top = 0, diff = 0;
            for (let i = 0; i < a.planes[p].length; i++) {
              top = Math.max(top, Math.abs(a.planes[p][i]));
              diff = Math.max(diff, Math.abs(a.planes[p][i] - b.planes[p][i]));
              if (!Number.isFinite(b.planes[p][i])) diff = Infinity;
            }
            worst = Math.max(worst, diff / Math.max(top, 1e-30));
          }
          if (a.planes.length !== b.planes.length || a.width !== b.width || a.height !== b.height) worst = Infinity;
        }
      }
      times.reference = Math.min(times.reference, reference / testImages.length);
      times.current = Math.min(times.current, current / testImages.length);
    }
    const plane = testImages[0][level];
    console.log(`${root} level ${level} (${plane.width}×${plane.height}, ${filters.whitenedDims} whitened dims, ${filters.centroids.length / filters.whitenedDims} centroids, ` +
      `${activations ? 'activations + ' : ''}residual): reference ${times.reference.toFixed(1)} ms, current ${times.current.toFixed(1)} ms per image ` +
      `(×${(times.reference / times.current).toFixed(2)}); max |difference| / max |plane| = ${worst.toExponential(2)}`);
  }
}
