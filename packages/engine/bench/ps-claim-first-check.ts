/**
 * Whether claim-first sampling describes patches exactly: on the first N training images of a set (decoded at the
 * working size), PS's learned filters at its default levels and the default patch grid, the descriptors of a random
 * tenth of the patches (`rawDescriptorsOfPatches`) against those of the whole raster, value by value.
 *
 *   node --import tsx packages/engine/bench/ps-claim-first-check.ts DATASET_DIR [N]
 */
import { readFile } from 'node:fs/promises';
import { decodeForModel, loadMvtecDataset } from '../src/index.ts';
import { fitLearnedFilters } from '../src/features/learned-filters.ts';
import { lightnessPyramid } from '../src/features/filter-bank.ts';
import { rawDescriptors, rawDescriptorsOfPatches, type DescriptorSettings } from '../src/algorithms/ps/descriptors.ts';
import { Random } from '../src/kernels/random.ts';

const [root, countArg] = process.argv.slice(2);
if (!root) throw new Error('usage: ps-claim-first-check.ts DATASET_DIR [N]');
const dataset = await loadMvtecDataset(root);
const rasters = [];
for (const sample of dataset.train.slice(0, Number(countArg ?? 20))) rasters.push((await decodeForModel(await readFile(sample.path), 512)).raster);
const random = new Random(1);
const levels = [0, 1, 2];
for (const normalise of ['none', 'robust'] as const) {
  const pyramids = rasters.map((r) => lightnessPyramid(r, { normalise }, 3));
  const learned = levels.map((level) => fitLearnedFilters(pyramids.map((p) => p[level]), level,
    { count: 32, size: 7, planes: 'residual', samples: 20000, iterations: 10, threshold: 0.25 }, random));
  const settings: DescriptorSettings = { levels: 3, firstLevel: 0, colour: true, normalise, learned, patchWidth: 8, patchHeight: 8, step: 4 };
  let values = 0, different = 0;
  for (const raster of rasters) {
    const whole = rawDescriptors(raster, settings);
    const patches = whole.grid.columns * whole.grid.rows;
    const wanted = Int32Array.from({ length: patches }, (_, p) => p).filter(() => random.next() < 0.1);
    const some = rawDescriptorsOfPatches(raster, settings, wanted)!;
    for (const p of wanted) {
      for (let j = 0; j < whole.dims; j++, values++) if (!Object.is(some.data[p * whole.dims + j], whole.data[p * whole.dims + j])) different++;
    }
  }
  console.log(JSON.stringify({ normalise, images: rasters.length, values, different }));
}
