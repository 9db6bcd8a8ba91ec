import { filterBank, lightnessCentre, lightnessPyramid, poolOnGrid } from '../../features/filter-bank.ts';
import { fitLearnedFilters, type LearnedFilterOptions, type LearnedFilters } from '../../features/learned-filters.ts';
import { DEFAULT_DISCRIMINATOR, fitDiscriminator, type Discriminator, type DiscriminatorOptions } from '../../features/discriminator.ts';
import { fitStructureBasis, sampleNeighbourhoods, type StructureBasis } from '../../features/structure-residual.ts';
import { compactPatchScores, patchGrid, type PatchGrid } from '../../features/patches.ts';
import { halveRaster, type CompactMap, type FloatMap, type PixelBox, type Raster } from '../../image/raster.ts';
import { greedyCoreset } from '../../kernels/coreset.ts';
import { buildKnnIndex, KnnSearcher, searchKnn, type KnnIndex } from '../../kernels/knn.ts';
import { Random } from '../../kernels/random.ts';
import { RowReservoir } from '../../kernels/reservoir.ts';
import { selfMatchedScores } from './self-match.ts';
import { quantile } from '../../calibration/quantile.ts';
import { sharedParameters } from '../../params/shared.ts';
import { num, optionalNum, pair, str, type ParameterSpec, type ParamValues } from '../../params/schema.ts';
import { gaussianBlur } from '../../postprocess/filters.ts';
import { checkAborted, type AlgorithmDefinition, type AlteredSample, type ModelState, type StateValue, type TrainContext, type TrainingSample } from '../types.ts';
import { fitPca } from '../../kernels/pca.ts';
import { positionR2 } from '../../features/position-r2.ts';
import { DEFAULT_PROBE, exposureVaries, lightnessSpread, probeMeasures, type ProbeMeasures, type RasterSource } from './choices.ts';
import {
  descriptorGrid, featureStatistics, finishDescriptors, finishedDims, finishRows, makeProjection, patchCentres, rawDescriptorsOfPatches, rawDescriptorsReusing,
  type DescriptorSettings, type Projection, type RawDescriptors,
} from './descriptors.ts';

/**
 * PS — Patch Sample Inspection: a memory bank of patch descriptors from OK images; a patch's anomaly is
 * its distance to the nearest patch in the bank, divided by how spread out good patches are around that
 * neighbour. Descriptors are rotation-invariant filter responses (see `features/filter-bank.ts`), so a part
 * may be placed and turned freely; where the training images show that the part is aligned, position
 * joins the descriptor, so that a patch must look like what good images have *at that place* (a missing
 * arm leaves background that looks normal anywhere else).
 */
export interface PsConfig {
  levels: number;
  /** Finest pyramid level that gives features. */
  firstLevel: number;
  colour: boolean;
  /**
   * Per-image lightness normalisation (its own median and MAD, see `filterBank`): 'auto' normalises when the exposure of
   * the training images varies: when their medians differ by at least `exposureTolerance` of an image's own spread
   * (`lightnessSpread`, on `exposureImages` images), and normalising each image makes their lightness quantiles agree better.
   */
  normalise: 'robust' | 'none' | 'auto';
  /**
   * The engine's border calibration, when it is chosen: 'level' (each band divided by its level) or 'two-point' (below
   * the level, each band's median also sent to the global median). 'two-point' since 2026-12-05: on the full magnetic-tile
   * set (582 test images, two seeds) image AUROC unchanged (0.769 → 0.770, 0.773 → 0.772), pixel AUROC 0.58 → 0.63, AUPRO
   * 0.36 → 0.48; the quick subsets' image losses (0.745 → 0.70 at seed 0, 26 good images) did not hold on the full set
   * (README, "Two-point border calibration").
   */
  borderCalibration: 'level' | 'two-point';
  exposureTolerance: number;
  exposureImages: number;
  /**
   * Resolution 'auto' works at full size while the probe keeps at least this share of its sensitivity there. Finer
   * sight finds pits, spurs and thin cracks that halving blurs away, but it costs sensitivity to large changes (a
   * missing part) wherever the finer pixels add only noise: this is how much of that we give for twice the detail.
   */
  resolutionTolerance: number;
  /**
   * The side at which the resolution check compares full and half size (and half is half of it). Where full resolution
   * wins and the images fit the working size as they are, they are described pixel for pixel at their own size: a
   * reduction by an odd factor (640 → 512 px) blurs and rings the fine detail the check found (`chooseWorkingSide`).
   */
  resolutionSide: number;
  /** Pyramid levels (from 0) that get a plane of learned filters' structure residual (`structure-residual.ts`); 0: none. */
  structureLevels: number;
  /** Training images (drawn by the seed) and neighbourhoods per level the learned filters are fitted on. */
  structureImages: number;
  structureSamples: number;
  /**
   * Learned filters fitted once per training (in `decide`, on all the OK images, as the final model fitted them) and
   * shared by the cross-fitting folds, whose patch reservoirs then describe patches as the final model does: the final
   * model's reservoir is drawn from theirs (`mergedPatchSample`) instead of describing every image a second time.
   */
  shareFoldPatches: boolean;
  /**
   * Filters learned by spherical k-means on whitened neighbourhoods of the training images' lightness
   * (`features/learned-filters.ts`), at each of `levels` (pyramid levels), fitted on the `structureImages` images.
   */
  learnedFilters: 'off' | (Partial<LearnedFilterOptions> & { levels: number[] });
  /**
   * A small network per pyramid level in `levels`, trained on the `structureImages` images to tell good neighbourhoods
   * from synthetic defects drawn into them (`features/discriminator.ts`). Its logit, pooled per patch, is one more plane
   * of the descriptors (`plane`, default true) and/or an anomaly score of its own (`score`), combined with the
   * nearest-neighbour score after each is put in units of good patches (`DiscriminatorScore`).
   */
  discriminator: 'off' | (Partial<DiscriminatorOptions> & { levels: number[]; plane?: boolean; score?: DiscriminatorScore; scoreQuantile?: number });
  /** Position weight (placement 'aligned') is this gain times R² squared (R²: how much position explains). */
  positionGain: number;
  /**
   * Placement 'auto' uses position when it makes good patches of held-out training images at most this
   * much farther from their nearest good patch (99th percentile), i.e. when the product sits still.
   */
  positionTolerance: number;
  /** The position weight at which that cost is measured (one image width costs this many standard deviations). */
  positionProbe: number;
  /** Divide the NN distance by the matched bank point's distance to its k-th neighbour in the bank. */
  density: boolean;
  densityK: number;
  /**
   * Patches drawn at random before the coreset, and patches the coreset keeps (the bank, unless `train_size` is
   * given): so many per OK image, within the range. More images show more kinds of good patch, and a rare one (a
   * glyph on one board, one tile's streak) must be drawn to be kept.
   */
  samplePerImage: number;
  sampleRange: [number, number];
  bankPerImage: number;
  bankRange: [number, number];
  coreset: 'greedy' | 'random';
  /** Blur of the patch-score map, in patch steps. */
  smoothing: number;
  /** How that blur treats the map's borders (see `gaussianBlur`). */
  smoothingBorders: 'clamp' | 'normalised';
  /**
   * Each patch also compared with the other patches of its own image (`selfMatchedScores`; README, "Matching an image with
   * itself"): its score is lowered to what the `selfMatchRank`-th nearest patch of the same image, outside
   * ±`selfMatchWindow` grid steps, would give, when that patch is nearer than the bank's. Off by default: it lifts the
   * boards and lowers the tiles, and no held-out check tried so far tells them apart (README).
   */
  selfMatch: 'off' | 'on';
  selfMatchRank: number;
  selfMatchWindow: number;
  /**
   * Each plane also pooled over a context window twice the patch's side, around it (`PatchGrid.contextMargin`). 'auto':
   * where the probe's bank `coverage` (`probeMeasures`) is at least `contextCoverage`: where a held-out good patch lies
   * that far from every bank patch, in units of its own image's variety, the finest detail is new in every good image
   * (a stochastic texture), and a wider window averages it out; where good patches repeat (boards, parts), the wider
   * window only adds combinations the bank has not seen (README, "Context windows").
   */
  context: 'auto' | 'on' | 'off';
  contextCoverage: number;
}

/**
 * How the discriminators' pooled logits join the nearest-neighbour patch score: each map divided by its own
 * `scoreQuantile` (default `SCORE_QUANTILE`) on good patches (the logit first less its good median, and floored at 0: a
 * patch that looks better than typical must not cancel the other map's evidence), then the largest of them or their sum.
 */
export type DiscriminatorScore = 'max' | 'sum';

/** The quantile of good patches' scores that is one unit of each combined map. */
const SCORE_QUANTILE = 0.99;

export const DEFAULT_PS_CONFIG: PsConfig = {
  levels: 4,
  firstLevel: 0,
  colour: true,
  normalise: 'auto',
  borderCalibration: 'two-point',
  exposureTolerance: 0.5,
  exposureImages: 64,
  resolutionTolerance: 0.75,
  // PS's working size until 2026-12-06, at which the check was measured (README, "Images at their own size").
  resolutionSide: 512,
  // The k-means filters' codebook residual at levels 0 and 1 replaces the PCA structure residual (issue 12, quick subsets
  // of the five sets: mean image AUROC 0.846 → 0.878, worst 0.650 → 0.754; see the README); at level 2 as well since
  // (mean 0.863 → 0.882, worst 0.679 → 0.745, the tiles better on three seeds; about 5 ms per image).
  structureLevels: 0,
  structureImages: 40,
  structureSamples: 20000,
  shareFoldPatches: true,
  learnedFilters: { levels: [0, 1, 2], planes: 'residual' },
  discriminator: 'off',
  selfMatch: 'off',
  selfMatchRank: 4,
  selfMatchWindow: 6,
  context: 'auto',
  // Measured (24 images, two seeds): magnetic tiles 0.24, metal surfaces 0.14, cookies 0.083–0.089, aliens 0.026,
  // boards 0.015–0.021; context won on the tiles only (README, "Context windows").
  contextCoverage: 0.18,
  positionGain: 30,
  positionTolerance: 1.2,
  positionProbe: 12,
  density: true,
  densityK: 3,
  samplePerImage: 300,
  sampleRange: [30000, 120000],
  bankPerImage: 60,
  bankRange: [4000, 24000],
  coreset: 'greedy',
  smoothing: 2,
  // Clamped borders let an edge patch weigh up to half of its own blur: 6 of the 14 good cookies test images
  // had their maximum on the border (cookies image AUROC 0.986 with 'clamp', 0.993 with 'normalised').
  smoothingBorders: 'normalised',
};

export interface PsState {
  [key: string]: number | Float32Array | KnnIndex | Projection | StructureBasis[] | LearnedFilters[] | Discriminator[];
  projection: Projection;
  positionWeight: number;
  positionR2: number;
  /** Held-out 99th-percentile distance with position over without (placement 'auto'), else 1. */
  positionCost: number;
  /** 1: patches described at the working size; 0.5: at half of it. */
  scale: number;
  /** Probe sensitivity at full and at half size (resolution 'auto'; empty otherwise). */
  resolutionScores: Float32Array;
  /** The longest side the images are decoded at, as PS chose it (`PsDecisions.workingSide`; 0 or absent: the working size). */
  workingSide: number;
  /** 1: each image's lightness is normalised by its median and MAD; 0: absolute lightness. */
  robustNormalisation: number;
  /** The OK images' exposure spread (normalise 'auto'; version 4: the probe's sensitivity without and with it; empty otherwise). */
  normaliseScores: Float32Array;
  /** Pixels each patch's context window reaches beyond it (`PsConfig.context`; 0 or absent: none). */
  contextMargin: number;
  /** The probe's bank coverage that decided it (context 'auto'; empty or absent otherwise). */
  contextScores: Float32Array;
  /** Self-matching (`PsConfig.selfMatch`): the rank and window it compares with (absent when off). */
  selfMatchRank: number;
  selfMatchWindow: number;
  /** Learned filters by pyramid level (see `PsConfig.structureLevels`). */
  structure: StructureBasis[];
  /** Filters learned by k-means (see `PsConfig.learnedFilters`; empty if off; absent in older models). */
  learned: LearnedFilters[];
  /** Synthetic-defect discriminators (see `PsConfig.discriminator`; empty if off; absent in older models). */
  discriminators: Discriminator[];
  /**
   * Where the discriminators' logits are a score of their own (`DiscriminatorScore`, `combinedScoreScales`): 0 (max) or 1
   * (sum), the nearest-neighbour score's unit, then each discriminator's good median and unit. Absent otherwise (models
   * without it are byte-identical to those before it).
   */
  scoreScales: Float32Array;
  /** Patches drawn before the coreset and kept in the bank (decided from the number of OK images). */
  sampleSize: number;
  bankSize: number;
  /** Neighbourhood radius of each bank point (by the bank's original row). */
  radius: Float32Array;
  index: KnnIndex;
}

/** Cells per side of the coarse grid on which the position R² is measured. */
const POSITION_CELLS = 8;

function descriptorSettings(
  config: PsConfig, params: ParamValues, normalise: 'robust' | 'none', structure: StructureBasis[] = [], learned: LearnedFilters[] = [],
  discriminators: Discriminator[] = [], contextMargin = 0,
): DescriptorSettings {
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const step = num(params, 'min_inspection_step');
  const levels = config.levels + (num(params, 'model_type') === 1 ? 1 : 0);
  return {
    levels, firstLevel: config.firstLevel, colour: config.colour, normalise, structure, learned, discriminators, patchWidth, patchHeight, step,
    contextMargin,
  };
}

/** The descriptor settings a trained model describes images with (its normalisation, learned features and context). */
export function modelDescriptorSettings(config: PsConfig, params: ParamValues, state: PsState): DescriptorSettings {
  return descriptorSettings(
    config, params, state.robustNormalisation ? 'robust' : 'none', state.structure, state.learned ?? [], state.discriminators ?? [], state.contextMargin ?? 0,
  );
}

export const DEFAULT_LEARNED_FILTERS: LearnedFilterOptions = {
  count: 32, size: 7, planes: 'both', samples: 20000, iterations: 10, threshold: 0.25,
  // The second layer (learned-filters.ts) is an option: better on boards and tiles, but dearer than the speed goals allow (README).
  secondLevels: [], secondCount: 32, secondPool: 3,
};

/** Lightness pyramids (`depth` levels) of `config.structureImages` images drawn by `random`: what learned features are fitted on. */
async function drawnPyramids(
  config: PsConfig, rasters: RasterSource, normalise: 'robust' | 'none', depth: number, random: Random,
): Promise<FloatMap[][]> {
  const chosen: FloatMap[][] = [];
  for (const i of random.sample(rasters.count, config.structureImages)) chosen.push(lightnessPyramid(await rasters.get(i), { normalise }, depth));
  return chosen;
}

/** The k-means filters of `config.learnedFilters`, fitted on a seeded draw of the images (as the structure basis). */
async function fitLearned(config: PsConfig, rasters: RasterSource, normalise: 'robust' | 'none', seed: number): Promise<LearnedFilters[]> {
  if (config.learnedFilters === 'off' || config.learnedFilters.levels.length === 0) return [];
  const options = { ...DEFAULT_LEARNED_FILTERS, ...config.learnedFilters };
  const levels = config.learnedFilters.levels;
  const random = new Random(seed + 71);
  const chosen = await drawnPyramids(config, rasters, normalise, Math.max(...levels) + 1, random);
  return levels.map((level) => fitLearnedFilters(chosen.map((pyramid) => pyramid[level]), level, options, random));
}

/** The discriminators of `config.discriminator`, trained on a seeded draw of the images (as the learned filters). */
async function fitDiscriminators(config: PsConfig, rasters: RasterSource, normalise: 'robust' | 'none', seed: number): Promise<Discriminator[]> {
  if (config.discriminator === 'off' || config.discriminator.levels.length === 0) return [];
  const options = { ...DEFAULT_DISCRIMINATOR, ...config.discriminator };
  const levels = config.discriminator.levels;
  const random = new Random(seed + 89);
  const chosen = await drawnPyramids(config, rasters, normalise, Math.max(...levels) + 1, random);
  return levels.map((level) => fitDiscriminator(chosen.map((pyramid) => pyramid[level]), level, options, random));
}

/** The learned filters of each of the first `config.structureLevels` pyramid levels, from a seeded draw of the images. */
async function fitStructure(config: PsConfig, rasters: RasterSource, normalise: 'robust' | 'none', seed: number): Promise<StructureBasis[]> {
  if (config.structureLevels <= 0) return [];
  const random = new Random(seed + 53);
  const chosen = await drawnPyramids(config, rasters, normalise, config.structureLevels, random);
  return Array.from({ length: config.structureLevels }, (_, level) =>
    fitStructureBasis(sampleNeighbourhoods(chosen.map((pyramid) => pyramid[level]), config.structureSamples, random)));
}

/** Rasters at the chosen scale: halved one at a time when they are read, never all at once. */
function atScale(rasters: RasterSource, scale: number): RasterSource {
  return scale === 1 ? rasters : { count: rasters.count, get: async (i) => halveRaster(await rasters.get(i)) };
}

/**
 * The resolution of parameter 'auto', by the probe (see `probeMeasures`) on the same images at full and at half size:
 * full when it keeps `resolutionTolerance` of the half size's sensitivity. Products whose good images have fine,
 * regular detail (board layouts, ground surfaces) keep it; where the extra pixels are mostly noise (sensor, JPEG,
 * smooth objects), the sensitivity falls at full size and halving wins. Measured on the five development sets
 * (full/half: 0.55 and 0.65 on the two photographed objects, 0.81–0.94 on the boards, metal and tiles). `probed`: the
 * chosen size's measures (without normalisation), which the context check reuses.
 */
async function chooseResolution(
  config: PsConfig, rasters: RasterSource, params: ParamValues,
): Promise<{ scale: number; scores: Float32Array; probed: ProbeMeasures | null }> {
  const requested = str(params, 'resolution');
  if (requested !== 'auto') return { scale: requested === 'full' ? 1 : 0.5, scores: new Float32Array(0), probed: null };
  const settings = descriptorSettings(config, params, 'none');
  const probe = { ...DEFAULT_PROBE, seed: num(params, 'seed') };
  const full = await probeMeasures(rasters, [settings], probe);
  const half = await probeMeasures(atScale(rasters, 0.5), [settings], probe);
  if (!full || !half) return { scale: 1, scores: new Float32Array(0), probed: null };
  const keepFull = full[0].sensitivity >= half[0].sensitivity * config.resolutionTolerance;
  return { scale: keepFull ? 1 : 0.5, scores: Float32Array.of(full[0].sensitivity, half[0].sensitivity), probed: keepFull ? full[0] : half[0] };
}

/**
 * The normalisation of config 'auto': robust where the exposure of the OK images varies between shots (`lightnessSpread`,
 * `exposureVaries`). Scores: the exposure spread, then the lightness profiles' dispersion without and with normalisation.
 */
async function chooseNormalisation(config: PsConfig, rasters: RasterSource, params: ParamValues): Promise<{ normalise: 'robust' | 'none'; scores: Float32Array }> {
  if (config.normalise !== 'auto') return { normalise: config.normalise, scores: new Float32Array(0) };
  const spread = await lightnessSpread(rasters, config.exposureImages, num(params, 'seed'));
  return {
    normalise: exposureVaries(spread, config.exposureTolerance) ? 'robust' : 'none',
    scores: Float32Array.of(spread.exposure, spread.profiles, spread.normalisedProfiles),
  };
}

/**
 * The context windows of config 'auto' (`PsConfig.context`): on where the probe's bank coverage (`probeMeasures`, on the
 * filter bank at the chosen resolution and normalisation) reaches `contextCoverage`. Without normalisation that probe is
 * the resolution check's at the chosen size (`probed`, the same images and settings), so it is not run again. The margin
 * is half the patch's side: a window twice the patch's, centred on it. Scores: the coverage.
 */
async function chooseContext(
  config: PsConfig, rasters: RasterSource, params: ParamValues, normalise: 'robust' | 'none', probed: ProbeMeasures | null,
): Promise<{ margin: number; scores: Float32Array }> {
  const [patchWidth, patchHeight] = pair(params, 'min_inspection_size');
  const margin = Math.max(1, Math.round(Math.min(patchWidth, patchHeight) / 2));
  if (config.context !== 'auto') return { margin: config.context === 'on' ? margin : 0, scores: new Float32Array(0) };
  const measured = normalise === 'none' && probed
    ? probed
    : (await probeMeasures(rasters, [descriptorSettings(config, params, normalise)], { ...DEFAULT_PROBE, seed: num(params, 'seed') }))?.[0];
  if (!measured) return { margin: 0, scores: new Float32Array(0) };
  return { margin: measured.coverage >= config.contextCoverage ? margin : 0, scores: Float32Array.of(measured.coverage) };
}

/**
 * The reservoir's rows split by their image's parity, twice: each half is once the queries and once the bank (held-out
 * checks on good patches). A split with an empty side is left out.
 */
function parityHalves(sample: PatchSample): { bankRows: number[]; queryRows: number[] }[] {
  const halves: { bankRows: number[]; queryRows: number[] }[] = [];
  for (let fold = 0; fold < 2; fold++) {
    const bankRows: number[] = [], queryRows: number[] = [];
    sample.images.forEach((image, row) => (image % 2 === fold ? queryRows : bankRows).push(row));
    if (bankRows.length > 0 && queryRows.length > 0) halves.push({ bankRows, queryRows });
  }
  return halves;
}

/** The given rows (of `dims` values) of `data`, in one array. */
function gatherRows(data: Float32Array, dims: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => out.set(data.subarray(r * dims, r * dims + dims), i * dims));
  return out;
}

/**
 * 99th percentile of held-out patches' distance to the nearest patch of the other half of the images (two folds, by
 * image parity), with the given position weight: what a new good image's patches will score. On the reservoir's rows.
 */
function heldOutDistance(sample: PatchSample, projection: Projection, positionWeight: number, random: Random): number {
  const distances: number[] = [];
  const finished = finishRows(sample.features, sample.centres, projection, positionWeight);
  const dims = finishedDims(projection, positionWeight);
  const pick = (rows: number[]) => gatherRows(finished, dims, rows);
  for (const { bankRows, queryRows } of parityHalves(sample)) {
    const bank = pick(random.sample(bankRows.length, 4000).map((i) => bankRows[i]));
    const { distances: d } = searchKnn(buildKnnIndex(bank, dims), pick(queryRows), 1);
    for (let i = 0; i < d.length; i++) distances.push(Math.sqrt(d[i]));
  }
  return quantile(distances, 0.99);
}

/** A seeded uniform sample of the training patches: raw features, patch centres and the image of each. */
interface PatchSample {
  features: Float32Array;
  rawDims: number;
  centres: Float32Array;
  images: Int32Array;
  /** Patches the sample was drawn from (all patches of its images). */
  offered: number;
}

/**
 * The learned filters' pooled planes of training images (`rawDescriptorsReusing`), kept by the trains of one training
 * for the maps the engine then makes of the same images (`TrainContext.mappedLater`: held-out and threshold maps, which
 * name their sample): those planes cost most of the filter bank (deeppcb at 512 px: about two thirds of it). Kept by the
 * learned filters they were made with (the trains of one training share them, with its scale and normalisation, and
 * the model holds them), within a budget of bytes.
 */
interface LearnedColumns {
  bytes: number;
  bySample: WeakMap<TrainingSample, Float32Array>;
}
const learnedColumns = new WeakMap<LearnedFilters[], LearnedColumns>();
/** The engine maps at most 220 OK training images (200 held out, 20 for the threshold): 28 MB at 512 × 512. */
const LEARNED_COLUMNS_BYTES = 64 * 2 ** 20;

function keptLearnedColumns(learned: LearnedFilters[], sample: TrainingSample | undefined): Float32Array | null {
  return sample && learned.length > 0 ? learnedColumns.get(learned)?.bySample.get(sample) ?? null : null;
}

function keepLearnedColumns(learned: LearnedFilters[], sample: TrainingSample, columns: Float32Array): void {
  if (learned.length === 0) return;
  let kept = learnedColumns.get(learned);
  if (!kept) learnedColumns.set(learned, (kept = { bytes: 0, bySample: new WeakMap() }));
  if (kept.bySample.has(sample) || kept.bytes + columns.byteLength > LEARNED_COLUMNS_BYTES) return;
  kept.bySample.set(sample, columns);
  kept.bytes += columns.byteLength;
}

/** Raw descriptors of a sample's raster, reusing its learned filters' planes, or keeping them when `keep` says so. */
function sampleDescriptors(raster: Raster, settings: DescriptorSettings, sample: TrainingSample | undefined, keep?: ReadonlySet<TrainingSample>): RawDescriptors {
  const learned = settings.learned ?? [];
  const raw = rawDescriptorsReusing(raster, settings, keptLearnedColumns(learned, sample));
  if (sample && keep?.has(sample)) keepLearnedColumns(learned, sample, raw.learnedColumns);
  return raw;
}

/**
 * Streams the images once: each one's patches are offered to a seeded reservoir of `size` patches (`offerImage`), and
 * the image let go. Memory stays at the reservoir's, however many images there are (250 images used to take ~0.3 GB
 * here, every patch in three copies).
 */
async function samplePatches(
  rasters: RasterSource, samples: TrainingSample[], settings: DescriptorSettings, size: number, random: Random, context: TrainContext,
): Promise<PatchSample> {
  let reservoir: RowReservoir | null = null;
  let rawDims = 0, offered = 0;
  for (let image = 0; image < rasters.count; image++) {
    checkAborted(context.signal);
    const raster = await rasters.get(image);
    if (!reservoir) {
      // The first image is described whole: its descriptors' length sizes the reservoir's rows.
      const raw = sampleDescriptors(raster, settings, samples[image], context.mappedLater);
      rawDims = raw.dims;
      reservoir = new RowReservoir(size, rawDims + 2, random);
      offered += writeClaimed(reservoir, raw, claimAll(reservoir, image, raw.grid.columns * raw.grid.rows));
    } else {
      offered += offerImage(reservoir, raster, settings, image, samples[image], context.mappedLater);
    }
    context.onProgress((0.4 * (image + 1)) / rasters.count, 'patch-features');
  }
  const { rows, tags } = reservoir!.kept();
  const n = tags.length, width = rawDims + 2;
  const features = new Float32Array(n * rawDims), centres = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    features.set(rows.subarray(i * width, i * width + rawDims), i * rawDims);
    centres[2 * i] = rows[i * width + rawDims];
    centres[2 * i + 1] = rows[i * width + rawDims + 1];
  }
  return { features, rawDims, centres, images: Int32Array.from(tags), offered };
}

/**
 * Standardisation, principal components and the share of variance position explains, from the sampled patches; the
 * last `ignored` raw columns get no weight (they are read for another purpose: `PsConfig.discriminator`'s `plane`).
 */
function fitDescriptorSpace(sample: PatchSample, numFeatures: number, ignored = 0): { projection: Projection; r2: number } {
  const { rawDims } = sample;
  const used = rawDims - ignored;
  const standardised = ignored === 0
    ? Float32Array.from(sample.features)
    : Float32Array.from({ length: (sample.features.length / rawDims) * used }, (_, i) => sample.features[Math.floor(i / used) * rawDims + (i % used)]);
  const { mean, scale } = featureStatistics(standardised, used);
  for (let i = 0; i < standardised.length; i++) standardised[i] = (standardised[i] - mean[i % used]) * scale[i % used];
  const r2 = positionR2(standardised, used, used, sample.centres, POSITION_CELLS);
  const projection = makeProjection(mean, scale, fitPca(standardised, used), Math.min(used, numFeatures));
  return { projection: ignored === 0 ? projection : ignoringLastColumns(projection, rawDims), r2 };
}

/** A projection of `used` raw columns widened to rows of `rawDims`, whose further columns are multiplied by 0. */
function ignoringLastColumns(projection: Projection, rawDims: number): Projection {
  const { rawDims: used, keep } = projection;
  const offset = new Float32Array(rawDims), matrix = new Float32Array(keep * rawDims);
  offset.set(projection.offset);
  for (let c = 0; c < keep; c++) matrix.set(projection.matrix.subarray(c * used, c * used + used), c * rawDims);
  return { rawDims, keep, offset, matrix };
}

/** What PS decides from the OK images by its probes, once per training (see `AlgorithmDefinition.decide`). */
interface PsDecisions {
  [key: string]: number | string | Float32Array | StructureBasis[] | LearnedFilters[] | Discriminator[];
  scale: number;
  resolutionScores: Float32Array;
  normalise: 'robust' | 'none';
  normaliseScores: Float32Array;
  contextMargin: number;
  contextScores: Float32Array;
  /** The longest side the images are decoded at (the engine's `workingSide`); 0 where the samples cannot be decoded anew. */
  workingSide: number;
  sampleSize: number;
  bankSize: number;
  /** 1: `structure` and `learned` hold the learned filters, fitted once for every train of this training (`PsConfig.shareFoldPatches`). */
  sharedStructure: number;
  structure: StructureBasis[];
  learned: LearnedFilters[];
  discriminators: Discriminator[];
}

/** So many per image within the range: the sample and the bank grow with the number of OK images, within bounds. */
function perImage(images: number, each: number, [low, high]: [number, number]): number {
  return Math.min(high, Math.max(low, images * each));
}

/**
 * The OK images, read one at a time, never gathered into an array: each sample decodes its image when it is read (the
 * engine keeps a bounded cache), so at most the probe's and the learned filters' few images are held at once.
 */
function okRasters(ok: TrainingSample[]): RasterSource {
  return { count: ok.length, get: (i) => ok[i].load() };
}

/**
 * The OK images decoded to fit `side` (each read anew), where that is not the side they load at (the working size; 0:
 * whatever they load at) and the samples can be (`loadAt`); else as they load.
 */
function okRastersAt(ok: TrainingSample[], side: number, params: ParamValues): RasterSource {
  if (side === 0 || side === num(params, 'working_size') || !ok.every((s) => s.loadAt)) return okRasters(ok);
  return { count: ok.length, get: (i) => ok[i].loadAt!(side) };
}

/**
 * The side the images are described at (`PsDecisions.workingSide`), where the samples can be decoded at another one:
 * the working size where full resolution is chosen and the images fit it as they are (a seeded draw of `NATIVE_CHECKS`
 * of them, read at the working size, are all smaller than it), so that they are described pixel for pixel; else the
 * resolution check's side (`PsConfig.resolutionSide`). 0 where the samples cannot be decoded anew (tiles): as they load.
 */
async function chooseWorkingSide(config: PsConfig, ok: TrainingSample[], params: ParamValues, scale: number): Promise<number> {
  if (!ok.every((s) => s.loadAt)) return 0;
  const workingSize = num(params, 'working_size');
  if (scale !== 1 || workingSize <= config.resolutionSide) return Math.min(workingSize, config.resolutionSide);
  for (const i of new Random(num(params, 'seed') + 43).sample(ok.length, NATIVE_CHECKS)) {
    const raster = await ok[i].load();
    if (Math.max(raster.width, raster.height) >= workingSize) return config.resolutionSide;
  }
  return workingSize;
}

/** Images read to tell whether the training images fit the working size as they are. */
const NATIVE_CHECKS = 24;

async function decide(config: PsConfig, samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<PsDecisions> {
  const ok = samples.filter((s) => s.good === true);
  const bankSize = optionalNum(params, 'train_size') ?? perImage(ok.length, config.bankPerImage, config.bankRange);
  const sampleSize = Math.max(bankSize, perImage(ok.length, config.samplePerImage, config.sampleRange));
  context.onProgress(0, 'choosing-resolution');
  // Full and half size compared at the check's side, as the images were described before PS chose its side (2026-12-06).
  const checked = Math.min(num(params, 'working_size'), config.resolutionSide);
  const resolution = await chooseResolution(config, okRastersAt(ok, checked, params), params);
  const workingSide = await chooseWorkingSide(config, ok, params, resolution.scale);
  context.onProgress(0, 'normalising');
  const rasters = atScale(okRastersAt(ok, workingSide, params), resolution.scale), seed = num(params, 'seed');
  const normalisation = await chooseNormalisation(config, rasters, params);
  // The resolution check's measures are of these images where the side is the one it checked at.
  const probed = workingSide === 0 || workingSide === checked ? resolution.probed : null;
  const patchContext = await chooseContext(config, rasters, params, normalisation.normalise, probed);
  const structure = config.shareFoldPatches ? await fitStructure(config, rasters, normalisation.normalise, seed) : [];
  const learned = config.shareFoldPatches ? await fitLearned(config, rasters, normalisation.normalise, seed) : [];
  const discriminators = config.shareFoldPatches ? await fitDiscriminators(config, rasters, normalisation.normalise, seed) : [];
  return {
    scale: resolution.scale, resolutionScores: resolution.scores, normalise: normalisation.normalise, normaliseScores: normalisation.scores,
    contextMargin: patchContext.margin, contextScores: patchContext.scores, sharedStructure: config.shareFoldPatches ? 1 : 0, structure, learned, discriminators, sampleSize, bankSize,
    workingSide,
  };
}

/** Claims a slot for each of an image's patches in grid order: the slots (−1: not kept). */
function claimAll(reservoir: RowReservoir, image: number, patches: number): Int32Array {
  const slots = new Int32Array(patches);
  for (let p = 0; p < patches; p++) slots[p] = reservoir.claim(image);
  return slots;
}

/** Writes the claimed patches' rows (raw descriptor, then centre) in grid order: a slot claimed twice keeps the later. */
function writeClaimed(reservoir: RowReservoir, raw: RawDescriptors, slots: Int32Array): number {
  const rawDims = raw.dims, width = rawDims + 2;
  const centres = patchCentres(raw.grid);
  for (let p = 0; p < slots.length; p++) {
    const slot = slots[p];
    if (slot < 0) continue;
    reservoir.rows.set(raw.data.subarray(p * rawDims, p * rawDims + rawDims), slot * width);
    reservoir.rows[slot * width + rawDims] = centres[2 * p];
    reservoir.rows[slot * width + rawDims + 1] = centres[2 * p + 1];
  }
  return slots.length;
}

/**
 * Offers one image's patches to the reservoir: claim first, describe after. The claims depend on the random stream
 * alone, so all of the image's are made first, and only the claimed patches are described (`rawDescriptorsOfPatches`):
 * after the first images most patches are never kept, and describing them was most of training. Described whole as
 * before where most patches are claimed (the first images), where the image's learned planes are kept for its maps
 * later (`keep`) or already were, or with `describeAll`. Returns the patches offered.
 */
export function offerImage(
  reservoir: RowReservoir, raster: Raster, settings: DescriptorSettings, image: number, sample: TrainingSample | undefined,
  keep?: ReadonlySet<TrainingSample>, describeAll = false,
): number {
  const grid = descriptorGrid(raster, settings);
  const slots = claimAll(reservoir, image, grid.columns * grid.rows);
  const wanted = slots.reduce<number[]>((list, slot, p) => (slot >= 0 ? (list.push(p), list) : list), []);
  const learned = settings.learned ?? [];
  const whole = describeAll || learned.length === 0 || 2 * wanted.length > slots.length
    || (sample !== undefined && (keep?.has(sample) || keptLearnedColumns(learned, sample) !== null));
  const raw = (whole ? null : rawDescriptorsOfPatches(raster, settings, Int32Array.from(wanted))) ?? sampleDescriptors(raster, settings, sample, keep);
  return writeClaimed(reservoir, raw, slots);
}

/**
 * Patch reservoirs of the trains of one training (by its decisions, which every train of it shares): a cross-fitting
 * fold's reservoir is kept, so that the final model, trained on the union of the folds' images, draws its own from them.
 */
interface KeptPatchSample {
  ok: TrainingSample[];
  sample: PatchSample;
}
const keptPatchSamples = new WeakMap<object, KeptPatchSample[]>();

/** The reservoirs kept by the trains of one training, naming their images by `indexOf` (to cross to another thread). */
function keptForLaterTrains(decided: ModelState, indexOf: (sample: TrainingSample) => number): StateValue | null {
  const kept = keptPatchSamples.get(decided);
  if (!kept) return null;
  return kept.map(({ ok, sample }) => ({ ok: Int32Array.from(ok, indexOf), sample: { ...sample } }));
}

/** Reservoirs another thread kept for the trains of this training (`keptForLaterTrains`), after those kept here. */
function adoptKeptForLaterTrains(decided: ModelState, kept: StateValue, sampleAt: (index: number) => TrainingSample): void {
  const list = keptPatchSamples.get(decided) ?? [];
  for (const { ok, sample } of kept as unknown as { ok: Int32Array; sample: PatchSample }[]) list.push({ ok: Array.from(ok, sampleAt), sample });
  keptPatchSamples.set(decided, list);
}

/**
 * A uniform sample of `size` patches of the union of two trainings' images from their uniform samples: how many come
 * from each is drawn as a draw without replacement from the union would take them (hypergeometric), then each side's
 * share is a uniform subsample of its sample. Null unless the two trainings' images are disjoint and make up `ok`.
 */
function mergedPatchSample(parts: KeptPatchSample[], ok: TrainingSample[], size: number, random: Random): PatchSample | null {
  const position = new Map(ok.map((s, i) => [s, i]));
  for (let a = 0; a < parts.length; a++) {
    for (let b = a + 1; b < parts.length; b++) {
      const [first, second] = [parts[a], parts[b]];
      if (first.ok.length + second.ok.length !== ok.length) continue;
      const seen = new Set<TrainingSample>();
      if (![...first.ok, ...second.ok].every((s) => position.has(s) && !seen.has(s) && seen.add(s))) continue;
      const total = Math.min(size, first.sample.offered + second.sample.offered);
      let fromFirst = 0, leftFirst = first.sample.offered, leftSecond = second.sample.offered;
      for (let i = 0; i < total; i++) {
        if (random.next() * (leftFirst + leftSecond) < leftFirst) { fromFirst++; leftFirst--; } else leftSecond--;
      }
      const picks = [
        { part: first, rows: random.sample(first.sample.images.length, fromFirst).sort((x, y) => x - y) },
        { part: second, rows: random.sample(second.sample.images.length, total - fromFirst).sort((x, y) => x - y) },
      ];
      const rawDims = first.sample.rawDims;
      const features = new Float32Array(total * rawDims), centres = new Float32Array(total * 2), images = new Int32Array(total);
      let o = 0;
      for (const { part, rows } of picks) {
        for (const r of rows) {
          features.set(part.sample.features.subarray(r * rawDims, r * rawDims + rawDims), o * rawDims);
          centres[2 * o] = part.sample.centres[2 * r];
          centres[2 * o + 1] = part.sample.centres[2 * r + 1];
          images[o] = position.get(part.ok[part.sample.images[r]])!;
          o++;
        }
      }
      return { features, rawDims, centres, images, offered: first.sample.offered + second.sample.offered };
    }
  }
  return null;
}

/**
 * The memory bank of finished descriptor rows: `size` of them (a greedy coreset, or a random draw), their k-d tree, and
 * each bank point's neighbourhood radius (its distance to its `densityK`-th nearest fellow, relative to the median).
 */
function memoryBank(
  config: PsConfig, finished: Float32Array, dims: number, size: number, seed: number, random: Random, onIndex?: () => void,
): { index: KnnIndex; radius: Float32Array } {
  const count = finished.length / dims;
  const bankSize = Math.min(size, count);
  let rows: Int32Array;
  if (config.coreset === 'greedy') {
    rows = greedyCoreset(finished, dims, bankSize, { seed, projectTo: Math.min(dims, 16) }).selected;
  } else {
    rows = Int32Array.from(random.sample(count, bankSize));
  }
  const bank = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => bank.set(finished.subarray(r * dims, r * dims + dims), i * dims));
  onIndex?.();
  const index = buildKnnIndex(bank, dims);
  // Neighbourhood radius of each bank point: distance to its k-th nearest fellow in the bank.
  const radius = new Float32Array(rows.length).fill(1);
  if (config.density && rows.length > config.densityK) {
    const k = config.densityK;
    const { distances } = searchKnn(index, bank, k, { excludeSelf: true });
    const levels = Float32Array.from({ length: rows.length }, (_, i) => Math.sqrt(distances[i * k + k - 1]));
    const typical = Float32Array.from(levels).sort()[rows.length >> 1] || 1;
    // Floored at half the typical radius: near-duplicates must not make their neighbourhood infinitely strict.
    for (let i = 0; i < rows.length; i++) radius[i] = Math.max(levels[i], typical * 0.5) / typical;
  }
  return { index, radius };
}

/** Held-out queries per half in `combinedScoreScales`: enough for a 99th percentile, and cheap. */
const SCALE_QUERIES = 20000;

/**
 * The units of the combined score (`PsState.scoreScales`). The nearest-neighbour score's unit comes from held-out good
 * patches: the sampled patches of one half of the images (by parity) scored against a bank made as the model's is of
 * the other half's patches, and the other way round, so that it is what a new good image's patches score (in-sample
 * patches lie within the coreset's reach of the bank and would score lower). The discriminators' units come from their
 * pooled logits on the sampled patches (the network saw a few thousand pixels of 40 of those images only).
 */
function combinedScoreScales(
  config: PsConfig, combine: DiscriminatorScore, unitQuantile: number, sample: PatchSample, finished: Float32Array, dims: number, bankSize: number,
  discriminators: number, seed: number,
): Float32Array {
  const random = new Random(seed + 97);
  const scores: number[] = [];
  const pick = (rows: number[]) => gatherRows(finished, dims, rows);
  for (const [fold, { bankRows, queryRows }] of parityHalves(sample).entries()) {
    const { index, radius } = memoryBank(config, pick(bankRows), dims, bankSize, seed + fold, random);
    const queries = random.sample(queryRows.length, SCALE_QUERIES).map((i) => queryRows[i]);
    const { distances, indices } = searchKnn(index, pick(queries), 1);
    for (let i = 0; i < queries.length; i++) scores.push(Math.sqrt(distances[i]) / radius[indices[i]]);
  }
  const out = [combine === 'sum' ? 1 : 0, Math.max(quantile(scores, unitQuantile), 1e-6)];
  const { rawDims, features } = sample, n = features.length / rawDims;
  // The discriminators' planes are the descriptors' last columns (see `filterBank`).
  for (let column = rawDims - discriminators; column < rawDims; column++) {
    const logits = Float32Array.from({ length: n }, (_, i) => features[i * rawDims + column]);
    const median = quantile(logits, 0.5);
    out.push(median, Math.max(quantile(logits, unitQuantile) - median, 1e-6));
  }
  return Float32Array.from(out);
}

/**
 * Each patch's nearest-neighbour score combined with the discriminators' pooled logits (`raw`'s last columns), each in
 * its own unit (`PsState.scoreScales`), in place.
 */
function combineScores(scores: Float32Array, raw: RawDescriptors, scales: Float32Array): void {
  const discriminators = (scales.length - 2) / 2, sum = scales[0] === 1, unit = scales[1];
  const first = raw.dims - discriminators;
  for (let p = 0; p < scores.length; p++) {
    let combined = scores[p] / unit;
    for (let j = 0; j < discriminators; j++) {
      const logit = raw.data[p * raw.dims + first + j];
      const own = Math.max(0, (logit - scales[2 + 2 * j]) / scales[3 + 2 * j]);
      combined = sum ? combined + own : Math.max(combined, own);
    }
    scores[p] = combined;
  }
}

async function train(config: PsConfig, samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<PsState> {
  const ok = samples.filter((s) => s.good === true);
  const handed = context.decided as PsDecisions | undefined;
  const decided = handed ?? await decide(config, samples, params, context);
  // Handed decisions come with samples the engine decoded at their side; deciding here, the samples are read at it.
  const rasters = atScale(handed ? okRasters(ok) : okRastersAt(ok, decided.workingSide, params), decided.scale);
  const seed = num(params, 'seed');
  const structure = decided.sharedStructure ? decided.structure : await fitStructure(config, rasters, decided.normalise, seed);
  const learned = decided.sharedStructure ? decided.learned : await fitLearned(config, rasters, decided.normalise, seed);
  const discriminators = decided.sharedStructure ? decided.discriminators : await fitDiscriminators(config, rasters, decided.normalise, seed);
  const settings = descriptorSettings(config, params, decided.normalise, structure, learned, discriminators, decided.contextMargin);
  const random = new Random(num(params, 'seed'));
  // Trains that share their decisions (and so their learned filters) describe patches alike: a fold's reservoir is kept,
  // and a train on the union of two folds' images draws its reservoir from theirs.
  const kept = decided.sharedStructure && context.decided ? keptPatchSamples.get(context.decided) ?? [] : null;
  let sample = kept ? mergedPatchSample(kept, ok, decided.sampleSize, random) : null;
  if (!sample) {
    sample = await samplePatches(rasters, ok, settings, decided.sampleSize, random, context);
    if (kept && context.decided) {
      kept.push({ ok, sample });
      keptPatchSamples.set(context.decided, kept);
    }
  }
  // Discriminators that give only a score of their own (`plane` false) are left out of the descriptor space.
  const scoreOnly = config.discriminator !== 'off' && config.discriminator.plane === false ? discriminators.length : 0;
  const { projection, r2 } = fitDescriptorSpace(sample, num(params, 'num_features'), scoreOnly);
  const placement = str(params, 'placement');
  // Context windows give every plane a second column: a position coordinate of the same weight would then count for half
  // as much in the distances (and in the placement check's), so its weights grow by √2 with them.
  const positionScale = Math.sqrt(decided.contextMargin > 0 ? 2 : 1);
  let positionWeight = placement === 'free' ? 0 : positionScale * config.positionGain * r2 * r2;
  // How much farther good patches are from their match when position counts (1 = not at all).
  let positionCost = 1;
  if (placement === 'auto' && ok.length >= 4 && positionWeight > 0) {
    context.onProgress(0.45, 'placement');
    positionCost = heldOutDistance(sample, projection, positionScale * config.positionProbe, random) / heldOutDistance(sample, projection, 0, random);
    if (positionCost > config.positionTolerance) positionWeight = 0;
  }

  // A greedy coreset of the sampled patches: the bank.
  const dims = finishedDims(projection, positionWeight);
  const finished = finishRows(sample.features, sample.centres, projection, positionWeight);
  checkAborted(context.signal);
  const candidates = finished.length / dims;
  context.onProgress(0.5, 'memory-bank', { bank: Math.min(decided.bankSize, candidates), candidates });
  const { index, radius } = memoryBank(config, finished, dims, decided.bankSize, seed, random, () => {
    checkAborted(context.signal);
    context.onProgress(0.7, 'neighbour-index');
  });
  let scoreScales: Float32Array | null = null;
  if (discriminators.length > 0 && config.discriminator !== 'off' && config.discriminator.score) {
    const quantileOfUnit = config.discriminator.scoreQuantile ?? SCORE_QUANTILE;
    scoreScales = combinedScoreScales(config, config.discriminator.score, quantileOfUnit, sample, finished, dims, decided.bankSize, discriminators.length, seed);
  }
  context.onProgress(1);
  const state = {
    projection, positionWeight, positionR2: r2, positionCost, radius, index, scale: decided.scale, workingSide: decided.workingSide, resolutionScores: decided.resolutionScores,
    robustNormalisation: decided.normalise === 'robust' ? 1 : 0, normaliseScores: decided.normaliseScores, structure, learned, discriminators,
    sampleSize: decided.sampleSize, bankSize: index.size, contextMargin: decided.contextMargin, contextScores: decided.contextScores,
    ...(config.selfMatch === 'on' ? { selfMatchRank: config.selfMatchRank, selfMatchWindow: config.selfMatchWindow } : {}),
  };
  // Without the combined score (or self-matching) the field is left out, as in older models: their bytes stay as they were.
  return (scoreScales ? { ...state, scoreScales } : state) as PsState;
}

/** Receives the milliseconds of each stage of `anomalyMap` (for profiling). */
type StageTimer = (stage: string, ms: number) => void;

/**
 * The unsmoothed patch scores of the last map made of a training sample (`from`), by the state that made it: a synthetic
 * defect drawn into that image next (`AlteredSample`) is scored from them outside the defect's reach. One map only
 * (weakly held): the engine maps a held-out image and then its synthetic defect.
 */
let lastScored: { sample: WeakRef<TrainingSample>; state: WeakRef<PsState>; scores: Float32Array; centre?: LightnessCentre } | null = null;
type LightnessCentre = ReturnType<typeof lightnessCentre>;

/**
 * The scores of nearest-neighbour search for each of the patches given by their rows `data` (`dims` each): distance to
 * the nearest bank point over its neighbourhood radius. `columns`: patches per grid row, whose left and upper
 * neighbours' matches are tried first (they are usually close to its own). `squaredDistances`, when given, gets each
 * patch's squared distance to its nearest bank point.
 */
export function nearestScores(state: PsState, data: Float32Array, dims: number, columns: number, squaredDistances?: Float32Array): Float32Array {
  const count = data.length / dims;
  const searcher = new KnnSearcher(state.index, 1);
  const scores = new Float32Array(count);
  let left = -1;
  const previousRow = new Int32Array(columns).fill(-1);
  const hints = new Int32Array(2);
  for (let p = 0; p < count; p++) {
    const gx = p % columns;
    hints[0] = left;
    hints[1] = previousRow[gx];
    searcher.search(data, p * dims, hints);
    const id = searcher.idOf(0);
    scores[p] = Math.sqrt(searcher.best[0]) / state.radius[id];
    if (squaredDistances) squaredDistances[p] = searcher.best[0];
    left = id;
    previousRow[gx] = id;
  }
  return scores;
}

/**
 * How far (raster pixels) a change of the raster reaches into the patch descriptors, and so how far a crop's border
 * spoils them. A level-k pixel of the pyramid depends on raster pixels within 3 · (2^k − 1) (each level blurs ±2 of its
 * pixels and halves); a plane looks ±3 level pixels further (differential invariants, the contrast's blur; the learned
 * filters' 7×7 neighbourhoods, taken at every other pixel, one more), and pooling rounds a patch's window out to whole
 * pixels of the plane: 8 · 2^k for the filter bank's level k, 10 · 2^k for learned filters at level k (less 3).
 */
function descriptorReach(settings: DescriptorSettings): number {
  const filters = Math.max(8 * 2 ** (settings.levels - 1), ...(settings.learned ?? []).map((learned) => 10 * 2 ** learned.level));
  // A context window reaches this much further (and its pixels must lie inside the crop, unclipped, as in the whole raster).
  return filters + (settings.contextMargin ?? 0);
}

/**
 * The patch scores of `raster`, which is the raster of `altered.of` changed only inside the box, given `scores` (that
 * raster's unsmoothed patch scores by the same state): the patches within reach of the box are described again, from
 * a crop of the raster wide enough that its borders do not reach them, and searched; the others keep their scores.
 * The same scores as the whole raster's, but for the rounding of the crop's pooling sums (and, under robust
 * normalisation, the original's median and spread). Null where it cannot apply.
 */
function alteredPatchScores(
  state: PsState, raster: Raster, settings: DescriptorSettings, grid: PatchGrid, box: PixelBox, scores: Float32Array, originalCentre?: LightnessCentre,
): Float32Array | null {
  if ((settings.structure?.length ?? 0) > 0 || (settings.discriminators?.length ?? 0) > 0) return null;
  // Under robust normalisation the change moves the raster's median and spread a little, and with them every patch:
  // the altered raster is normalised as its original was (the synthetic defects' maps, which only measure the
  // evaluation's AUROC, are then not quite whole maps; the model is the same).
  if (settings.normalise === 'robust' && !originalCentre) return null;
  const centre = settings.normalise === 'robust' ? originalCentre : undefined;
  // A crop starting at a multiple of every level's (and learned plane's) pixel size has the same pixels at every level.
  const align = 2 ** Math.max(settings.levels, ...(settings.learned ?? []).map((filters) => filters.level + 1));
  const reach = descriptorReach(settings);
  const near = (starts: Int32Array, size: number, from: number, to: number) =>
    [...starts.keys()].filter((i) => starts[i] + size + reach > from && starts[i] - reach < to);
  const columns = near(grid.xs, grid.patchWidth, box.x0, box.x1), rows = near(grid.ys, grid.patchHeight, box.y0, box.y1);
  if (columns.length === 0 || rows.length === 0) return scores.slice();
  const crop = (starts: Int32Array, picked: number[], size: number, whole: number) => ({
    from: Math.max(0, Math.floor((starts[picked[0]] - reach) / align) * align),
    to: Math.min(whole, Math.ceil((starts[picked[picked.length - 1]] + size + reach) / align) * align),
  });
  const cx = crop(grid.xs, columns, grid.patchWidth, raster.width), cy = crop(grid.ys, rows, grid.patchHeight, raster.height);
  const width = cx.to - cx.from, height = cy.to - cy.from, channels = raster.channels;
  const data = new Float32Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((cy.from + y) * raster.width + cx.from) * channels;
    data.set(raster.data.subarray(from, from + width * channels), y * width * channels);
  }
  const cropGrid: PatchGrid = {
    imageWidth: width, imageHeight: height, patchWidth: grid.patchWidth, patchHeight: grid.patchHeight, columns: columns.length, rows: rows.length,
    xs: Int32Array.from(columns, (gx) => grid.xs[gx] - cx.from), ys: Int32Array.from(rows, (gy) => grid.ys[gy] - cy.from),
    contextMargin: grid.contextMargin,
  };
  // Normalised (robust) by the whole raster's lightness, as its own filter bank is.
  const raw = poolOnGrid(filterBank({ width, height, channels, data }, { ...settings, lightnessCentre: centre }), cropGrid);
  let centres: Float32Array | null = null;
  if (state.positionWeight > 0) {
    centres = new Float32Array(columns.length * rows.length * 2);
    rows.forEach((gy, r) => columns.forEach((gx, c) => {
      centres![2 * (r * columns.length + c)] = (grid.xs[gx] + grid.patchWidth / 2) / grid.imageWidth;
      centres![2 * (r * columns.length + c) + 1] = (grid.ys[gy] + grid.patchHeight / 2) / grid.imageHeight;
    }));
  }
  const dims = finishedDims(state.projection, state.positionWeight);
  const fresh = nearestScores(state, finishRows(raw.data, centres, state.projection, state.positionWeight), dims, columns.length);
  const out = scores.slice();
  rows.forEach((gy, r) => columns.forEach((gx, c) => { out[gy * grid.columns + gx] = fresh[r * columns.length + c]; }));
  return out;
}

/** The anomaly map as its smoothed patch scores (see `compactPatchScores`); `anomalyMap` expands it. */
function compactAnomalyMap(
  config: PsConfig, state: PsState, input: Raster, params: ParamValues, time?: StageTimer, from?: TrainingSample, altered?: AlteredSample,
): CompactMap {
  // Models of PS version 4 have no scale: they worked at the working size.
  const halved = (state.scale ?? 1) !== 1;
  const raster = halved ? halveRaster(input) : input;
  let t = time ? performance.now() : 0;
  const lap = (stage: string) => {
    if (!time) return;
    const now = performance.now();
    time(stage, now - t);
    t = now;
  };
  const settings = modelDescriptorSettings(config, params, state);
  const grid = descriptorGrid(raster, settings);
  let scores: Float32Array | null = null;
  const last = lastScored;
  // A patch's score under self-matching depends on its whole image: an altered image is scored whole.
  const selfMatch = state.selfMatchRank ? { rank: state.selfMatchRank, window: state.selfMatchWindow } : null;
  if (altered && !selfMatch && last && last.sample.deref() === altered.of && last.state.deref() === state && last.scores.length === grid.columns * grid.rows) {
    // A halved raster's pixel x is the mean of the input's 2x and 2x + 1.
    const box = halved
      ? { x0: altered.x0 >> 1, y0: altered.y0 >> 1, x1: ((altered.x1 - 1) >> 1) + 1, y1: ((altered.y1 - 1) >> 1) + 1 }
      : altered;
    scores = alteredPatchScores(state, raster, settings, grid, box, last.scores, last.centre);
    lap('altered patches');
  }
  if (!scores) {
    let raw: RawDescriptors;
    if (from) {
      raw = sampleDescriptors(raster, settings, from);
      lap('filter bank and pooling');
    } else {
      const levels = filterBank(raster, settings);
      lap('filter bank');
      raw = { grid, ...poolOnGrid(levels, grid) };
      lap('pooling');
    }
    const { dims, data } = finishDescriptors(raw, state.projection, state.positionWeight);
    lap('projection');
    const bankDistances = selfMatch ? new Float32Array(data.length / dims) : undefined;
    scores = nearestScores(state, data, dims, grid.columns, bankDistances);
    lap('nearest neighbours');
    if (selfMatch) {
      selfMatchedScores(scores, bankDistances!, data, dims, grid.columns, selfMatch);
      lap('self match');
    }
    if (state.scoreScales?.length) {
      combineScores(scores, raw, state.scoreScales);
      lap('discriminator score');
    }
    if (from) {
      const centre = settings.normalise === 'robust' ? lightnessCentre(raster) : undefined;
      lastScored = { sample: new WeakRef(from), state: new WeakRef(state), scores, centre };
    }
  }
  const scoreGrid: FloatMap = { width: grid.columns, height: grid.rows, data: scores };
  const smooth = config.smoothing > 0 ? gaussianBlur(scoreGrid, config.smoothing, config.smoothingBorders) : scoreGrid;
  lap('smoothing');
  return compactPatchScores(smooth.data, grid);
}

function anomalyMap(config: PsConfig, state: PsState, input: Raster, params: ParamValues, time?: StageTimer, from?: TrainingSample): FloatMap {
  const compact = compactAnomalyMap(config, state, input, params, time, from);
  const started = time ? performance.now() : 0;
  const map = compact.expand();
  time?.('patch scores to pixels', performance.now() - started);
  return map;
}

/** The default PS's anomaly map with the milliseconds of each stage (bench/ps-profile.ts). */
export function profilePsStages(state: PsState, raster: Raster, params: ParamValues): { map: FloatMap; times: Record<string, number> } {
  const times: Record<string, number> = {};
  const map = anomalyMap(DEFAULT_PS_CONFIG, state, raster, params, (stage, ms) => { times[stage] = (times[stage] ?? 0) + ms; });
  return { map, times };
}

/** What PS decided from the training images, with the measurements behind each decision (the model's evaluation). */
function psChoices(state: PsState): Record<string, { chosen: unknown; scores: Record<string, number> }> {
  const out: Record<string, { chosen: unknown; scores: Record<string, number> }> = {
    placement: {
      chosen: state.positionWeight > 0 ? 'aligned' : 'free',
      scores: { position_r2: state.positionR2, held_out_distance_ratio: state.positionCost, position_weight: state.positionWeight },
    },
  };
  if (state.resolutionScores?.length === 2) {
    out.resolution = {
      chosen: state.scale === 1 ? 'full' : 'half',
      scores: { full: state.resolutionScores[0], half: state.resolutionScores[1], ...(state.workingSide ? { working_side: state.workingSide } : {}) },
    };
  }
  if (state.scoreScales?.length) {
    const [sum, unit, ...networks] = state.scoreScales;
    const scores: Record<string, number> = { nearest_neighbour_unit: unit };
    (state.discriminators ?? []).forEach((d, j) => {
      scores[`level_${d.level}_median`] = networks[2 * j];
      scores[`level_${d.level}_unit`] = networks[2 * j + 1];
    });
    out.discriminator_score = { chosen: sum === 1 ? 'sum' : 'max', scores };
  }
  if (state.contextScores?.length === 1) {
    out.context = { chosen: state.contextMargin ? 'on' : 'off', scores: { bank_coverage: state.contextScores[0], margin: state.contextMargin } };
  }
  if (state.bankSize !== undefined) out.bank = { chosen: state.bankSize, scores: { sampled_patches: state.sampleSize } };
  // Models of PS version 4 recorded the held-out probe's sensitivity without and with it; later ones the exposure spread,
  // and since 2026-12-06 also the lightness profiles' dispersion without and with normalisation.
  const normalise = state.robustNormalisation ? 'robust' : 'none';
  const recorded = state.normaliseScores;
  if (recorded.length === 1) out.normalise = { chosen: normalise, scores: { exposure_spread: recorded[0] } };
  if (recorded.length === 2) out.normalise = { chosen: normalise, scores: { none: recorded[0], robust: recorded[1] } };
  if (recorded.length === 3) {
    out.normalise = { chosen: normalise, scores: { exposure_spread: recorded[0], lightness_profiles: recorded[1], lightness_profiles_normalised: recorded[2] } };
  }
  return out;
}

const OWN_PARAMETERS: ParameterSpec[] = [
  {
    id: 820, name: 'model_type', type: 'int', default: 0, min: 0, max: 1, autoTune: null, modelParameter: true,
    description: {
      en: 'Model size: 0 small (four scales of features, fast), 1 large (one coarser scale more: larger structures, slower).',
      ja: 'モデルの大きさ：0 小（4段階の特徴、高速）、1 大（さらに粗い段階を追加：大きな構造を捉え、低速）。',
    },
    effect: { en: 'Large: sees larger defects and shapes; inspection about a quarter slower.', ja: '大：より大きな欠陥や形を捉えます。検査は約25%遅くなります。' },
  },
  {
    id: 821, name: 'num_features', type: 'int', default: 100, min: 2, max: 1000, autoTune: null, modelParameter: true,
    description: {
      en: 'Most features per patch: when the filter bank gives more, they are projected onto this many principal components.',
      ja: 'パッチごとの特徴量の上限。フィルタバンクの特徴がこれより多いときは、この数の主成分に射影します。',
    },
    effect: { en: 'Fewer: faster nearest-neighbour search, coarser comparison.', ja: '少ないほど近傍探索は速く、比較は粗くなります。' },
  },
  {
    id: 822, name: 'placement', type: 'str', default: 'auto', options: ['auto', 'aligned', 'free'], autoTune: null, modelParameter: true,
    description: {
      en: 'aligned: parts sit at about the same place in every photo, so a patch is compared mostly with good patches from the same place (finds missing parts), weighted by how much place explains the training images; free: parts may sit anywhere (position is ignored); auto: aligned when the training images show that good patches still find close matches at their own place (held-out check), else free.',
      ja: 'aligned：部品が毎回ほぼ同じ位置に写るので、パッチを主に同じ位置の正常パッチと比べます（欠品を検出。位置の効き方は学習画像から決定）。free：部品はどこにあってもよい（位置を無視）。auto：学習画像で、同じ位置の正常パッチだけでも十分近い一致が見つかるなら aligned、そうでなければ free（検証用に分けた画像で確認）。',
    },
    effect: { en: 'aligned finds missing or misplaced parts; free tolerates any placement. auto adds a little training time (a held-out check).', ja: 'aligned は欠品や位置ずれを検出し、free はどんな置き方も許容します。auto は学習が少し延びます（検証用の確認）。' },
  },
  {
    id: 823, name: 'resolution', type: 'str', default: 'auto', options: ['auto', 'full', 'half'], autoTune: null, modelParameter: true,
    description: {
      en: 'full: patches are described at full resolution, fine enough for pits, spurs and thin cracks: images that fit within working_size at their own size, pixel for pixel (reducing a board from 640 to 512 px blurs its finest detail), larger ones reduced to 512 px; half: at 256 px (half of 512), where the finer pixels hold only noise (smooth parts, sensor and JPEG noise) and larger changes such as a missing part stand out better; auto: full when a held-out check on the OK images at 512 px shows it keeps at least three quarters of the sensitivity it has at half size, else half.',
      ja: 'full：フル解像度でパッチを記述します。小さな穴・突起・細い割れを捉えます。working_size に収まる画像は元の大きさのまま画素単位で（640 ピクセルの基板を 512 に縮小すると最も細かい模様がぼやけます）、それより大きい画像は 512 ピクセルに縮小して記述します。half：256 ピクセル（512 の半分）で記述します。細かい画素がノイズだけのとき（なめらかな部品、センサーやJPEGのノイズ）に向き、欠品のような大きな変化が際立ちます。auto：OK画像を 512 ピクセルで分けて確認し、full が half の感度の4分の3以上を保つなら full、そうでなければ half。',
    },
    effect: { en: 'full: finds smaller defects; training and inspection about four times slower than half (more for images inspected at their own size above 512 px).', ja: 'full は小さな欠陥を見つけますが、学習と検査は half の約4倍かかります（512 ピクセルを超える画像を元の大きさで検査するときはさらに）。' },
  },
];

/** PS's own words for some shared parameters (what they mean for a memory bank, and for PS's choice of side). */
const SHARED_PARAMETER_TEXTS: Record<string, Pick<ParameterSpec, 'description'> & Partial<Pick<ParameterSpec, 'effect'>>> = {
  train_size: {
    description: {
      en: 'Patches kept in the memory bank (a greedy coreset of the training patches: rare good patterns are kept). Empty: 60 per OK image, between 4 000 and 24 000.',
      ja: 'メモリバンクに残すパッチの数（学習パッチのグリーディ・コアセット：まれな正常パターンも残ります）。空欄：OK画像1枚につき60、4 000〜24 000。',
    },
    effect: { en: 'More: fewer false alarms on unusual good patches, slower training and inspection.', ja: '多いほど珍しい正常パッチでの誤検出が減り、学習と検査は遅くなります。' },
  },
  working_size: {
    description: {
      en: 'Longest side, in pixels, that PS may inspect images at. PS chooses its own side below it (resolution): images with fine, regular detail that fit within it are inspected at their own size, pixel for pixel; others at 512 px, or at half of that.',
      ja: 'PS が画像を検査できる長辺の最大ピクセル数。PS はこの範囲で自ら解像度を選びます（resolution）：細かく規則的な模様があり、この大きさに収まる画像は元の大きさのまま画素単位で検査し、それ以外は 512 ピクセル、またはその半分で検査します。',
    },
  },
};

export function createPatchSample(config: PsConfig = DEFAULT_PS_CONFIG, id = 'PS'): AlgorithmDefinition<PsState> {
  return {
    id,
    name: 'Patch Sample Inspection',
    type: 'unsupervised',
    version: 4,
    description: {
      en: 'Keeps a memory bank of patch features from OK images and flags patches far from every one of them; copes with parts placed and turned differently. What differs between products it decides from your OK images by held-out checks, and the model\'s evaluation lists each choice with its measurement: whether position counts (placement auto), at which resolution patches are described (full resolution where the OK images have fine, regular detail such as board layouts or ground metal: the images\' own size, pixel for pixel, where they fit the working size; half where the finer pixels are only noise), whether each image\'s exposure is normalised by its own median and MAD (when the overall lightness of the OK images differs between shots by more than half of what one image spreads within itself, and normalising makes their lightness distributions agree better: an exposure change, not a background that differs between shots), whether each patch is also described by a window twice its size around it (where no good patch repeats in other OK images, as on a grainy texture: the wider window averages the grain out; not where patches repeat, as on boards and parts, whose fine detail it would blur), whether scores are calibrated by distance to the image border (the default: tiles and textures vary most there) or globally (when each half of the held-out OK images finds that more sensitive), and how many good patches the memory bank keeps (more with more OK images: 4 000 to 24 000). It also learns small filters from the OK images by k-means (the structures of their surface), so that a crack or pit that none of them explains stands out.',
      ja: 'OK画像のパッチ特徴をメモリバンクに蓄え、そのどれからも遠いパッチを異常とします。置き方や向きが変わっても対応します。製品ごとに異なる設定は、OK画像を検証用に分けた確認で自動的に決め、モデルの評価に選択とその測定値を記録します：位置を考慮するか（placement auto）、パッチをどの解像度で記述するか（基板パターンや研削面のように細かく規則的な模様があればフル解像度：作業解像度に収まる画像は元の大きさのまま画素単位で。細かい画素がノイズだけなら半分）、画像ごとの露出を各画像の中央値とMADで正規化するか（OK画像の全体の明るさが撮影ごとに、1枚の中のばらつきの半分以上異なり、かつ正規化すると明るさの分布がよりそろうとき。背景が撮影ごとに違うだけなら正規化しません）、各パッチをその2倍の大きさの周囲の窓でも記述するか（粒状のテクスチャのように、どの正常パッチも他のOK画像に似たものがないとき。広い窓が粒状のばらつきを平均します。基板や部品のようにパッチが繰り返すときは、細部をぼかすので使いません）、スコアを画像の縁からの距離ごとに校正するか（既定。タイルやテクスチャは縁で最もばらつく）、全体で校正するか（held-out のOK画像の両半分がそろってその方が感度が高いと示すとき）、メモリバンクに残す正常パッチの数（OK画像が多いほど多く、4 000〜24 000）。さらにOK画像から k-means で小さなフィルタ（表面の構造）を学習し、どのフィルタでも説明できない割れや穴を際立たせます。',
    },
    learnsFrom: { en: 'OK images; placement and rotation may vary', ja: 'OK画像（置き方・向きが変わってもよい）' },
    parameters: [
      ...sharedParameters(800, { train_size: null, min_inspection_size: [8, 8], min_inspection_step: 4, working_size: 768 })
        .map((spec) => ({ ...spec, ...SHARED_PARAMETER_TEXTS[spec.name] })),
      ...OWN_PARAMETERS,
    ],
    requires: { okImages: 2 },
    // Tiles and textures seen at random offsets vary most near the image border: the engine decides on held-out images
    // between border-distance and global calibration. Border (by two points) comes first, so global must be more sensitive
    // in both held-out halves: on the full sets border gave magnetic-tile 0.770 against 0.558 (global, quick subset: on
    // few tiles the check cannot see it, and global falls below chance), bsdata 0.902 against 0.883, deeppcb 0.867 against
    // 0.848, the aliens 1.000 both, and cost only the cookies, 0.952 against 0.988 — nothing since band levels come from
    // their 99th percentile (0.988 both; calibration/calibrate.ts). Missing the border on a texture costs
    // far more than using it on an object. Not per place: position is already in the descriptors where it
    // matters (placement 'aligned'), and a per-place grid on top double-counts it (cookies image/pixel AUROC 0.986/0.917
    // with it, 0.996/0.967 without; aliens 0.983 against 0.998; chosen by the check on the aliens: 0.929 against 0.995).
    calibration: 'auto',
    calibrationCandidates: ['border', 'global'],
    borderCalibration: config.borderCalibration,
    train: (samples, params, context) => train(config, samples, params, context),
    decide: (samples, params, context) => decide(config, samples, params, context),
    anomalyMap: (state, raster, params, from) => anomalyMap(config, state, raster, params, undefined, from),
    compactAnomalyMap: (state, raster, params, from, altered) => compactAnomalyMap(config, state, raster, params, undefined, from, altered),
    choices: (state) => psChoices(state),
    keptForLaterTrains,
    adoptKeptForLaterTrains,
  };
}

export const patchSample = createPatchSample();
