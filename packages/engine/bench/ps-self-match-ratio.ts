/**
 * How much nearer a good patch's own image is than PS's bank (the measure behind PS README, "Matching an image with
 * itself"): for the good test images of each set, each patch's squared distance to its nearest bank point against the
 * distance to the `rank`-th nearest patch of its own image outside ±`window` grid steps (`ownImageDistances`, as
 * `selfMatchedScores` compares them). Per image: the share of patches whose own image is nearer, the median patch's ratio (√(own ÷ bank), 1 where the
 * bank is nearer) and the largest score after ÷ before; printed as medians over the images.
 *
 *   node --import tsx packages/engine/bench/ps-self-match-ratio.ts [--images N] [--cache DIR] DATASET_DIR …
 *
 * The model is trained with defaults once and kept in the cache (`bench/ps-profile.ts`'s by default).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeForModel, deserializeModel, loadMvtecDataset, modelWorkingSize, serializeModel, trainModel } from '../src/index.ts';
import { DEFAULT_PS_CONFIG, modelDescriptorSettings, nearestScores, type PsState } from '../src/algorithms/ps/index.ts';
import { finishDescriptors, rawDescriptors } from '../src/algorithms/ps/descriptors.ts';
import { halveRaster } from '../src/image/raster.ts';
import { ownImageDistances } from '../src/algorithms/ps/self-match.ts';

const RANK = 4, WINDOW = 6;
const args = process.argv.slice(2);
let images = 30, cache = '/tmp/kensa-ps-profile';
const roots: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--images') images = Number(args[++i]);
  else if (args[i] === '--cache') cache = args[++i];
  else roots.push(args[i]);
}
await mkdir(cache, { recursive: true });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

for (const root of roots) {
  const dataset = await loadMvtecDataset(root);
  const file = join(cache, `${dataset.name}.kensa`);
  let model = existsSync(file) ? deserializeModel(await readFile(file)) : null;
  if (!model) {
    const training = await Promise.all(dataset.train.map(async (t) => ({ bytes: await readFile(t.path), good: true as const })));
    model = await trainModel('PS', training, {});
    await writeFile(file, serializeModel(model));
  }
  const state = model.state as PsState;
  const settings = modelDescriptorSettings(DEFAULT_PS_CONFIG, model.params, state);
  const shares: number[] = [], ratios: number[] = [], largest: number[] = [];
  for (const image of dataset.test.filter((t) => t.defect === null).slice(0, images)) {
    let { raster } = await decodeForModel(await readFile(image.path), modelWorkingSize(model));
    if ((state.scale ?? 1) !== 1) raster = halveRaster(raster);
    const raw = rawDescriptors(raster, settings);
    const { grid } = raw;
    const { dims, data } = finishDescriptors(raw, state.projection, state.positionWeight);
    const bank = new Float32Array(data.length / dims);
    const scores = nearestScores(state, data, dims, grid.columns, bank);
    const own = ownImageDistances(data, dims, grid.columns, { rank: RANK, window: WINDOW });
    let nearer = 0, before = 0, after = 0;
    const patchRatios: number[] = [];
    for (let p = 0; p < bank.length; p++) {
      const ratio = own[p] < bank[p] ? Math.sqrt(own[p] / bank[p]) : 1;
      if (own[p] < bank[p]) nearer++;
      patchRatios.push(ratio);
      before = Math.max(before, scores[p]);
      after = Math.max(after, scores[p] * ratio);
    }
    shares.push(nearer / bank.length);
    ratios.push(median(patchRatios));
    largest.push(after / before);
  }
  console.log(`${dataset.name.padEnd(14)} share nearer ${median(shares).toFixed(3)}, median patch ratio ${median(ratios).toFixed(3)}, `
    + `largest score after ÷ before ${median(largest).toFixed(3)} (${shares.length} good images, bank ${state.index.size})`);
}
