import type { CompactMap, Raster } from '../../image/raster.ts';
import { describePatches, fitPatchDescriptors, type PatchDescriptorModel } from '../../features/patch-descriptors.ts';
import { compactSmoothedPatchScores } from '../../features/patch-score-map.ts';
import { patchGrid } from '../../features/patches.ts';
import { Random } from '../../kernels/random.ts';
import { fitRandomForest, forestProbabilities, type RandomForest } from '../../kernels/random-forest.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, pair, type ParamValues } from '../../params/schema.ts';
import { atMostImages, checkAborted, MAX_HELD_TRAINING_IMAGES, loadRasters, type AlgorithmDefinition, type Box, type TrainContext, type TrainingSample } from '../types.ts';

/**
 * RF — Mixed Grove Inspection: supervised. Patches whose centre lies inside an annotation box of an NG image
 * are defects; patches of OK images, and patches of NG images that touch no box, are good. A random forest
 * learns to tell them apart from their feature vectors, and a patch's anomaly is the forest's defect
 * probability. Classes are balanced by weight, so a few annotated defects are not drowned by good patches.
 */
interface RandomForestState {
  [key: string]: PatchDescriptorModel | RandomForest;
  descriptor: PatchDescriptorModel;
  forest: RandomForest;
}

/** Deep enough to carve small defect regions out of feature space, shallow enough to stay fast. */
const MAX_DEPTH = 14;
const MIN_LEAF = 3;

type PatchLabel = 'good' | 'defect' | 'ambiguous';
const GOOD = 0, DEFECT = 1, AMBIGUOUS = 2;

/** The label of each patch of a sample's grid (row by row), and how many are good and defects. */
function patchLabels(sample: TrainingSample, size: { width: number; height: number }, descriptor: PatchDescriptorModel): { labels: Uint8Array; goods: number; defects: number } {
  const grid = patchGrid(size.width, size.height, descriptor.patchWidth, descriptor.patchHeight, descriptor.step);
  const labels = new Uint8Array(grid.columns * grid.rows);
  let goods = 0, defects = 0;
  for (let gy = 0, p = 0; gy < grid.rows; gy++) {
    for (let gx = 0; gx < grid.columns; gx++, p++) {
      const label = sample.good ? 'good' : labelOf(grid.xs[gx], grid.ys[gy], grid.patchWidth, grid.patchHeight, sample.boxes);
      labels[p] = label === 'defect' ? DEFECT : label === 'ambiguous' ? AMBIGUOUS : GOOD;
      if (label === 'defect') defects++;
      else if (label === 'good') goods++;
    }
  }
  return { labels, goods, defects };
}

function labelOf(x0: number, y0: number, pw: number, ph: number, boxes: Box[]): PatchLabel {
  const cx = x0 + pw / 2, cy = y0 + ph / 2;
  let touches = false;
  for (const b of boxes) {
    if (cx >= b.x_min && cx < b.x_max && cy >= b.y_min && cy < b.y_max) return 'defect';
    if (x0 < b.x_max && x0 + pw > b.x_min && y0 < b.y_max && y0 + ph > b.y_min) touches = true;
  }
  return touches ? 'ambiguous' : 'good';
}

async function train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<RandomForestState> {
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const seed = num(params, 'seed');
  const trees = num(params, 'n_estimators');
  const trainSize = num(params, 'train_size');
  const random = new Random(seed);
  // Every NG image with boxes, and OK images up to MAX_HELD_TRAINING_IMAGES (a seeded draw beyond): the features are
  // fitted on all of their rasters at once.
  const okKept = new Set(atMostImages(samples.filter((s) => s.good === true), seed));
  const labelled = samples.filter((s) => okKept.has(s) || (s.good === false && s.boxes.length > 0));
  checkAborted(context.signal);
  context.onProgress(0, 'patch-features');
  // Features are standardised on good images: the scale of normal variation.
  const good = labelled.filter((s) => s.good);
  const { model: descriptor } = fitPatchDescriptors(await loadRasters(good.length > 0 ? good : labelled, context.signal), {
    patchWidth, patchHeight, step, random, checkAbort: () => checkAborted(context.signal),
  });
  const dims = descriptor.dims;

  // A class-balanced sample of train_size patches of the labelled images. The labels come from the grids and boxes
  // alone, so the sample is drawn first and each image is then described once, keeping only its chosen patches:
  // memory grows with train_size, not with the images (holding every described patch of 577 magnetic-tile images
  // peaked at 872 MB). The draw is the one it always was: models are byte-identical.
  const labels: ReturnType<typeof patchLabels>[] = [];
  for (const sample of labelled) labels.push(patchLabels(sample, await sample.load(), descriptor));
  const defectCount = labels.reduce((sum, l) => sum + l.defects, 0);
  const goodCount = labels.reduce((sum, l) => sum + l.goods, 0);
  if (defectCount === 0) throw new Error('RF needs annotated defects: no patch lies inside an annotation box');
  const half = Math.max(1, Math.floor(trainSize / 2));
  const chosenDefects = random.sample(defectCount, half);
  const chosenGood = random.sample(goodCount, Math.max(half, trainSize - chosenDefects.length));
  const n = chosenDefects.length + chosenGood.length;
  // Row of the sample each patch goes to (−1: not drawn), by class and order of appearance.
  const defectSlots = new Int32Array(defectCount).fill(-1);
  const goodSlots = new Int32Array(goodCount).fill(-1);
  chosenDefects.forEach((r, i) => { defectSlots[r] = i; });
  chosenGood.forEach((r, i) => { goodSlots[r] = chosenDefects.length + i; });
  const data = new Float32Array(n * dims);
  const classes = new Uint8Array(n).fill(1, 0, chosenDefects.length);
  const weights = new Float32Array(n);
  // Each class weighs as much as the other in total.
  weights.fill(chosenGood.length / chosenDefects.length, 0, chosenDefects.length).fill(1, chosenDefects.length);
  let defectIndex = 0, goodIndex = 0;
  for (let i = 0; i < labelled.length; i++) {
    checkAborted(context.signal);
    const { data: described } = describePatches(descriptor, await labelled[i].load());
    labels[i].labels.forEach((label, p) => {
      if (label === AMBIGUOUS) return;
      const slot = label === DEFECT ? defectSlots[defectIndex++] : goodSlots[goodIndex++];
      if (slot >= 0) data.set(described.subarray(p * dims, (p + 1) * dims), slot * dims);
    });
    context.onProgress((0.3 * (i + 1)) / labelled.length, 'patch-features');
  }
  checkAborted(context.signal);
  context.onProgress(0.3, 'growing-trees');
  const forest = fitRandomForest(data, dims, classes, weights, {
    trees, seed: seed + 1, maxDepth: MAX_DEPTH, minLeaf: MIN_LEAF, checkAbort: () => checkAborted(context.signal),
    onTree: (done) => context.onProgress(0.3 + (0.7 * done) / trees, 'growing-trees'),
  });
  return { descriptor, forest };
}

function compactAnomalyMap(state: RandomForestState, raster: Raster): CompactMap {
  const { grid, data } = describePatches(state.descriptor, raster);
  return compactSmoothedPatchScores(forestProbabilities(state.forest, data), grid);
}

export const randomForestInspection: AlgorithmDefinition<RandomForestState> = {
  id: 'RF',
  name: 'Mixed Grove Inspection',
  type: 'supervised',
  version: 1,
  description: {
    en: 'A random forest trained on patches inside annotation boxes (defects) and outside them (good); a patch’s anomaly is its defect probability.',
    ja: 'アノテーション枠の内側（欠陥）と外側（良品）のパッチで学習したランダムフォレスト。パッチの異常度は欠陥である確率です。',
  },
  learnsFrom: { en: 'OK and NG images with annotations', ja: 'OK画像とアノテーション付きNG画像' },
  parameters: [
    ...sharedParameters(500),
    {
      id: 520, name: 'n_estimators', type: 'int', default: 100, min: 1, max: 1000, autoTune: [10, 50, 100, 200], modelParameter: true,
      description: { en: 'Number of decision trees.', ja: '決定木の数。' },
      effect: { en: 'More: steadier probabilities, slower training and inspection.', ja: '多いほど確率が安定し、学習と検査が遅くなります。' },
    },
    {
      id: 521, name: 'detected_area_thresh', type: 'float', default: 0.1, min: 0, max: 1, autoTune: null, modelParameter: false,
      description: {
        en: 'Smallest detected region, as a fraction of the patch area (min_inspection_size).',
        ja: '検出する領域の最小面積（パッチ面積 min_inspection_size に対する割合）。',
      },
      effect: { en: 'Larger: fewer small detections.', ja: '大きいほど小さな検出が減ります。' },
    },
  ],
  requires: { okImages: 1, ngImagesWithBoxes: 1 },
  maxOkImages: MAX_HELD_TRAINING_IMAGES,
  train,
  anomalyMap: (state, raster) => compactAnomalyMap(state, raster).expand(),
  compactAnomalyMap,
};
