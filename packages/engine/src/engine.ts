import { getAlgorithm } from './algorithms/registry.ts';
import { checkAborted, type AlgorithmDefinition, type Box, type ModelState, type TrainingSample } from './algorithms/types.ts';
import { applyCalibration, largestCalibrated, type Calibration, type CalibrationMode, type HeldOutMap } from './calibration/calibrate.ts';
import { quantile } from './calibration/quantile.ts';
import { decodeImage, type DecodedImage } from './image/decode.ts';
import { decodeForTiles, stitchTileMaps, trainingTiles } from './image/tiles.ts';
import { DecodedPixelsCache, decodedSamples, type ImageBytes } from './image/training-images.ts';
import { MapReader, resizeMap, type FloatMap, type Raster } from './image/raster.ts';
import { Random } from './kernels/random.ts';
import { bestF1Threshold, confusionAt, type Confusion } from './metrics/index.ts';
import { decodeBlob, encodeBlob, ModelFormatError } from './model/blob.ts';
import { num, optionalNum, pair, resolveParams, type ParamValues } from './params/schema.ts';
import { detect, type Detection, type DetectionSettings } from './postprocess/detect.ts';
import { crossFit, crossFitUsesThreads, heldOutMap, mapHeldOut, type CrossFitOptions, type SizedMap } from './training/cross-fit.ts';
import { validate, validateOnThread, validationSettings, type Validation } from './training/validation.ts';
import type { TrainingProgressReport } from './training/progress.ts';
import { checkTrainingData, countTrainingData, type TrainingDataProblem } from './training/training-data.ts';
import { ENGINE_VERSION } from './version.ts';

/**
 * An image handed to training: encoded bytes (or a function that reads them, called each time the image is decoded:
 * thousands of images need not all be in memory), its label, and defect boxes in its original pixels.
 */
export interface TrainingImage {
  bytes: ImageBytes;
  good: boolean | null;
  boxes?: Box[];
}

export interface TrainOptions {
  onProgress?: TrainingProgressReport;
  signal?: AbortSignal;
  /** Calibration mode (see calibration/calibrate.ts), or 'auto' to choose it on held-out images; the default is the algorithm's. */
  calibration?: CalibrationMode | 'auto';
  /** Threads cross-fitting uses (1: the calling thread only); by default two on a machine with two cores, for 80 images or more. */
  threads?: number;
}

export interface Evaluation {
  /** Image AUROC on held-out data (OK vs NG; synthetic defects when there are no NG images). */
  auroc: number | null;
  aurocSource: 'ng_images' | 'synthetic_defects' | 'none';
  threshold: number;
  thresholdReason: 'best_f1' | 'held_out_ok' | 'user';
  confusion: Confusion | null;
  heldOutOkScores: number[];
  heldOutNgScores: number[];
  /**
   * Each held-out image's score, with the index of its training image (null for a tile), for ROC and
   * precision–recall curves and the worst misses: at most 200 OK and 500 NG images (a seeded draw beyond, see crossFit).
   * Empty when there were too few images to hold any out.
   */
  heldOut: { source: number | null; good: boolean; score: number }[];
}

export interface TrainedModel {
  engineVersion: string;
  algorithm: string;
  algorithmVersion: number;
  params: ParamValues;
  /**
   * Parameters chosen by AutoTune, with the candidates' validation scores; and what was decided from the training
   * images (calibration 'auto', the algorithm's `choices`), with the measurements behind it. Scores are keyed by JSON.
   */
  autoTuned: Record<string, { chosen: unknown; scores: Record<string, number> }>;
  state: ModelState;
  calibration: Calibration;
  threshold: number;
  evaluation: Evaluation;
  trainedOn: { ok: number; ng: number; unlabelled: number };
  trainSeconds: number;
  /**
   * The longest side the model's images are decoded at, where the algorithm's `decide` settled it (PS: its resolution);
   * absent: the `working_size` parameter.
   */
  workingSize?: number;
}

/** The longest side a model's images are decoded at. */
export function modelWorkingSize(model: TrainedModel): number {
  return model.workingSize ?? num(model.params, 'working_size');
}

/**
 * AutoTune's bounds, which keep a default training of 40 images at about 30 s without looking at the clock: at most
 * this many cross-fitted candidates in all (parameters in schema order: RC tries its five `n_components`, IF and RF
 * their four `n_estimators`, as a 15 s time budget allowed on a quiet machine), each on at most this many samples
 * of each label, drawn by the seed.
 */
export const AUTOTUNE_MAX_TRIALS = 5;
export const AUTOTUNE_MAX_SAMPLES_PER_LABEL = 40;

/** The samples AutoTune compares candidates on: of each label, all of them or a seeded draw when there are many. */
function autoTuneSubset(samples: TrainingSample[], seed: number): TrainingSample[] {
  const random = new Random(seed + 29);
  const kept = new Set([true, false, null].flatMap((label) => random.shuffle(samples.filter((s) => s.good === label)).slice(0, AUTOTUNE_MAX_SAMPLES_PER_LABEL)));
  return samples.filter((s) => kept.has(s));
}

/** Quantile of OK image scores (held out and in-sample, see trainModel) used as the threshold when there are no NG images. */
export const OK_ONLY_THRESHOLD_QUANTILE = 0.9;
/** OK training images the final model scores for the in-sample half of that threshold (see trainModel). */
const IN_SAMPLE_THRESHOLD_IMAGES = 20;

/** The images cannot train the algorithm: the problems as `checkTrainingData` gives them, for callers to word. */
export class TrainingDataError extends Error {
  constructor(readonly algorithmId: string, readonly problems: TrainingDataProblem[]) {
    super(problems.map((problem) => describeProblem(algorithmId, problem)).join('; '));
    this.name = 'TrainingDataError';
  }
}

function describeProblem(algorithmId: string, problem: TrainingDataProblem): string {
  switch (problem.code) {
    case 'no-images': return `${algorithmId} has no images to train on`;
    case 'too-few-ok-images': return `${algorithmId} needs at least ${problem.needed} OK images; got ${problem.got}`;
    case 'too-few-annotated-ng-images': return `${algorithmId} needs at least ${problem.needed} NG images with annotation boxes; got ${problem.got}`;
  }
}

/** Decodes images at a model's working size. */
export function decodeForModel(bytes: Uint8Array, workingSize: number): Promise<DecodedImage> {
  return decodeImage(bytes, { maxSide: workingSize });
}

/** Raw map of one raster at the raster's size. */
function rawMap(algorithm: AlgorithmDefinition<ModelState>, state: ModelState, raster: Raster, params: ParamValues): FloatMap {
  return resizeMap(algorithm.anomalyMap(state, raster, params), raster.width, raster.height);
}

/** The side an algorithm's `decide` settled for its images (`workingSide`; PS: its resolution), or null. */
export function decidedWorkingSide(decided: ModelState | undefined): number | null {
  return typeof decided?.workingSide === 'number' && decided.workingSide > 0 ? decided.workingSide : null;
}

/** The OK images the final model maps in-sample for the OK-only threshold (see trainModel): a seeded draw. */
function inSampleThresholdSamples(samples: TrainingSample[], seed: number): TrainingSample[] {
  return new Random(seed + 31).shuffle(samples.filter((s) => s.good === true)).slice(0, IN_SAMPLE_THRESHOLD_IMAGES);
}

/** Cross-fits and validates (AutoTune's trials). */
async function crossValidate(
  algorithm: AlgorithmDefinition<ModelState>, samples: TrainingSample[], params: ParamValues, mode: CalibrationMode | 'auto',
  options: CrossFitOptions,
): Promise<Validation> {
  return validate(await crossFit(algorithm, samples, params, options), validationSettings(algorithm, mode));
}

/**
 * Cross-fits, then validates: here, or, when cross-fitting ran on threads, on a worker while the caller trains the final
 * model (which does not need the validation; the threshold does). Its own function so that the held-out maps (a map per
 * held-out image, and per synthetic defect) are garbage before the final model trains, not kept to the end of trainModel.
 */
async function crossFitThenValidate(
  algorithm: AlgorithmDefinition<ModelState>, samples: TrainingSample[], params: ParamValues, mode: CalibrationMode | 'auto',
  options: CrossFitOptions,
): Promise<{ validation: Promise<Validation> }> {
  const fit = await crossFit(algorithm, samples, params, options);
  const settings = validationSettings(algorithm, mode);
  if (!crossFitUsesThreads(samples.length, options.threads)) return { validation: Promise.resolve(validate(fit, settings)) };
  const validation = validateOnThread(fit, settings, options.signal);
  // Awaited after the final train: a failure meanwhile must not count as an unhandled rejection.
  validation.catch(() => {});
  return { validation };
}

/**
 * Trains a model: resolves parameters (AutoTune for those left out), cross-fits to calibrate scores and
 * choose the threshold on held-out data, then trains the final model on everything.
 */
export async function trainModel(
  algorithmId: string, images: TrainingImage[], overrides: Record<string, unknown>, options: TrainOptions = {},
): Promise<TrainedModel> {
  const started = performance.now();
  const algorithm = getAlgorithm(algorithmId);
  const report = options.onProgress ?? (() => {});
  const { values, autoTune } = resolveParams(algorithm.parameters, overrides);
  const counts = countTrainingData(images);
  const problems = checkTrainingData(algorithm, counts);
  if (problems.length > 0) throw new TrainingDataError(algorithm.id, problems);
  const { ok, ng } = counts;
  report(0, 'decoding');
  const workingSize = num(values, 'working_size');
  const tileSize = optionalNum(values, 'tile_size') ?? 0;
  // Samples decode their images when read (see image/training-images.ts): memory does not grow with the image count.
  let decodedPixels = new DecodedPixelsCache();
  let samples: TrainingSample[] = tileSize > 0
    ? await trainingTiles(images, tileSize, workingSize, num(values, 'seed'), options.signal)
    : await decodedSamples(images, workingSize, decodedPixels, options.signal);
  const seed = num(values, 'seed');
  const mode = options.calibration ?? algorithm.calibration ?? 'location';
  const canCrossFit = ok >= 4;

  // AutoTune: one parameter at a time, candidates compared by held-out AUROC. Bounded by counts, not by the clock,
  // so that a seed gives the same model on a busy machine as on a quiet one.
  const autoTuned: TrainedModel['autoTuned'] = {};
  if (canCrossFit && autoTune.length > 0) {
    const tuningSamples = autoTuneSubset(samples, seed);
    let trials = 0;
    for (const name of autoTune) {
      const spec = algorithm.parameters.find((p) => p.name === name)!;
      const scores: Record<string, number> = {};
      let best = { value: values[name], score: -Infinity };
      for (const candidate of spec.autoTune!) {
        if (trials++ >= AUTOTUNE_MAX_TRIALS) break;
        checkAborted(options.signal);
        report(0.05, 'tuning', { parameter: name, candidate: JSON.stringify(candidate) });
        const trial = { ...values, [name]: candidate };
        const score = (await crossValidate(algorithm, tuningSamples, trial, mode, { signal: options.signal, synthetic: ng === 0, seed, threads: options.threads, onProgress: () => {} })).auroc ?? -Infinity;
        scores[JSON.stringify(candidate)] = score;
        if (score > best.score) best = { value: candidate, score };
      }
      values[name] = best.value;
      autoTuned[name] = { chosen: best.value, scores };
    }
  }

  // After AutoTune (whose trials decide for themselves): its choices may change what is decided.
  const decided = await algorithm.decide?.(samples, values, {
    onProgress: (_f, step, stageValues) => report(0.08, step ?? 'training', stageValues), signal: options.signal,
  });
  // A side the algorithm settled for its images (PS: its resolution): the folds and the final model read them at it.
  const decidedSide = tileSize === 0 ? decidedWorkingSide(decided) : null;
  if (decidedSide !== null && decidedSide !== workingSize) {
    decodedPixels.release();
    decodedPixels = new DecodedPixelsCache();
    samples = await decodedSamples(images, decidedSide, decodedPixels, options.signal);
  }
  // The threads of cross-fitting, decided once for it, its validation and the cache. On two worker threads it reads each
  // image once per pass, as they need it: holding every decoded image here besides their working memory would take
  // training past its memory bound (deeppcb 400: 105 MB of pixels).
  const threads = crossFitUsesThreads(samples.length, options.threads) ? 2 : 1;
  if (canCrossFit && threads > 1) decodedPixels.release();
  report(0.1, 'calibrating');
  // The OK-only threshold maps these in-sample with the final model (below).
  const thresholdSamples = canCrossFit && ng === 0 && optionalNum(values, 'threshold') === null ? inSampleThresholdSamples(samples, seed) : [];
  const validating = canCrossFit
    ? (await crossFitThenValidate(algorithm, samples, values, mode, {
      signal: options.signal, synthetic: ng === 0, seed, decided, mappedAfter: thresholdSamples, threads, onProgress: (f) => report(0.1 + 0.5 * f, 'calibrating'),
    })).validation
    : null;
  report(0.6, 'training');
  const state = await algorithm.train(samples, values, {
    onProgress: (f, step, values) => report(0.6 + 0.35 * f, step ?? 'training', values), signal: options.signal, decided,
    mappedLater: new Set(thresholdSamples),
  });
  // The OK-only threshold's in-sample raw maps (none for other thresholds) need the final model only: made while the
  // validation worker runs, held compact.
  const thresholdMaps: HeldOutMap[] = [];
  for (const sample of thresholdSamples) {
    thresholdMaps.push(heldOutMap((await mapHeldOut(algorithm, state, { sample, defectSeed: null }, values)).own));
  }
  let v: Validation;
  if (validating) v = await validating;
  else {
    // Too few OK images to hold any out: calibrate in-sample, with a margin for the optimism of that.
    const okMaps: SizedMap[] = [];
    for (const sample of samples.filter((s) => s.good)) {
      const raster = await sample.load();
      okMaps.push({ map: rawMap(algorithm, state, raster, values), width: raster.width, height: raster.height });
    }
    v = validate({ okMaps, ngMaps: [], syntheticMaps: [], okSources: [], ngSources: [] }, { ...validationSettings(algorithm, mode), candidates: undefined });
    v.okScores = v.okScores.map((s) => s * 1.25);
    v.heldOut = []; // scored in-sample: nothing was held out
  }
  // What was decided from the training images, with the measurements behind it: shown in the model detail.
  // Scores are keyed by the JSON of what they measure, as AutoTune keys them by the JSON of each candidate.
  const keyedByJson = (scores: Record<string, number>) => Object.fromEntries(Object.entries(scores).map(([key, value]) => [JSON.stringify(key), value]));
  if (v.calibrationScores && Object.keys(v.calibrationScores).length > 0) {
    autoTuned.calibration = { chosen: v.calibration.mode, scores: keyedByJson(v.calibrationScores) };
  }
  for (const [name, choice] of Object.entries(algorithm.choices?.(state) ?? {})) autoTuned[name] = { chosen: choice.chosen, scores: keyedByJson(choice.scores) };

  let threshold: number;
  let thresholdReason: Evaluation['thresholdReason'];
  const userThreshold = optionalNum(values, 'threshold');
  if (userThreshold !== null) {
    threshold = userThreshold;
    thresholdReason = 'user';
  } else if (v.ngScores.length > 0) {
    const choice = bestF1Threshold([...v.okScores, ...v.ngScores], [...v.okScores.map(() => false), ...v.ngScores.map(() => true)]);
    threshold = choice.threshold;
    thresholdReason = 'best_f1';
  } else {
    // OK images only: the 90th percentile of good images' scores. Not their maximum: one unusual good photo would
    // set it above most defects (bench/threshold-rules.ts: F1 0.15–0.22 that way for PS, 0.92–0.98 with the
    // quantile). Held out, the fold models (trained on half the images) score good images too high; in-sample, the
    // final model scores its own images too low: Efron's .632 rule weighs the two. Measured with the 7 algorithms
    // that learn from OK images on the 2 dev sets: F1 up in 6 cases by 0.003–0.067, down in 4 by 0.011–0.027 (3 of
    // them where AUROC is near chance); PS on turned aliens 0.629 → 0.930 (BENCHMARKS.md). At most 20 images,
    // drawn by the seed, bound its cost.
    threshold = quantile(v.okScores, OK_ONLY_THRESHOLD_QUANTILE);
    if (thresholdMaps.length > 0) {
      const reader = new MapReader();
      const inSample = thresholdMaps.map((map) => largestCalibrated(reader.read(map), v.calibration));
      threshold = 0.368 * quantile(inSample, OK_ONLY_THRESHOLD_QUANTILE) + 0.632 * threshold;
    }
    thresholdReason = 'held_out_ok';
  }
  const confusion = v.ngScores.length > 0
    ? confusionAt([...v.okScores, ...v.ngScores], [...v.okScores.map(() => false), ...v.ngScores.map(() => true)], threshold)
    : null;
  report(1, 'done');
  return {
    engineVersion: ENGINE_VERSION,
    algorithm: algorithm.id,
    algorithmVersion: algorithm.version,
    params: values,
    autoTuned,
    state,
    calibration: v.calibration,
    threshold,
    evaluation: {
      auroc: v.auroc, aurocSource: v.aurocSource, threshold, thresholdReason, confusion,
      heldOutOkScores: v.okScores, heldOutNgScores: v.ngScores, heldOut: v.heldOut,
    },
    trainedOn: { ok, ng, unlabelled: images.length - ok - ng },
    trainSeconds: (performance.now() - started) / 1000,
    ...(decidedSide !== null ? { workingSize: decidedSide } : {}),
  };
}

/** Prediction-time settings from a model, with optional overrides (threshold etc., no retraining). */
export function detectionSettings(model: TrainedModel, overrides: ParamValues = {}): DetectionSettings {
  const params: ParamValues = { ...model.params, ...overrides };
  const userThreshold = optionalNum(params, 'threshold');
  const patch = params.min_inspection_size ? pair(params, 'min_inspection_size') : [8, 8];
  const areaFraction = optionalNum(params, 'detected_area_thresh') ?? 0;
  return {
    threshold: userThreshold ?? model.threshold,
    minDetectedArea: optionalNum(params, 'min_detected_area') ?? 0,
    minRegionPixels: Math.max(1, Math.round(areaFraction * patch[0] * patch[1])),
    magnification: pair(params, 'anomaly_magnification'),
    ignoreOuter: pair(params, 'ignore_outer'),
  };
}

export interface Prediction extends Detection {
  threshold: number;
  label: 'OK' | 'NG';
  /** The calibrated map before magnification, for heatmaps. */
  calibratedMap: FloatMap;
}

/** The calibrated anomaly map of a raster decoded at the model's working size. */
export function anomalyMapOf(model: TrainedModel, raster: Raster): FloatMap {
  const algorithm = getAlgorithm(model.algorithm);
  return applyCalibration(rawMap(algorithm, model.state, raster, model.params), model.calibration);
}

/** Predicts one decoded image (raster at working size; results in the original's pixels). */
export function predictRaster(
  model: TrainedModel, raster: Raster, original: { width: number; height: number }, overrides: ParamValues = {},
): Prediction {
  if ((optionalNum(model.params, 'tile_size') ?? 0) > 0) {
    // A whole image reduced to working size is not what a tiled model learned from: refuse, never guess.
    throw new Error('This model inspects tiles (tile_size > 0): predict from the encoded image with predictImage');
  }
  const settings = detectionSettings(model, overrides);
  const calibratedMap = anomalyMapOf(model, raster);
  const detection = detect(calibratedMap, original, settings);
  return { ...detection, threshold: settings.threshold, label: detection.good ? 'OK' : 'NG', calibratedMap };
}

/** Decodes and predicts one encoded image. */
export async function predictImage(model: TrainedModel, bytes: Uint8Array, overrides: ParamValues = {}): Promise<Prediction> {
  const tileSize = optionalNum(model.params, 'tile_size') ?? 0;
  if (tileSize > 0) {
    // Tiled model: score each tile at the model's scale and post-process the stitched map as one image.
    const { info, layout, pixels } = await decodeForTiles(bytes, tileSize, num(model.params, 'working_size'));
    const calibratedMap = stitchTileMaps(layout, pixels, (tile) => anomalyMapOf(model, tile));
    const settings = detectionSettings(model, overrides);
    const detection = detect(calibratedMap, info, settings);
    return { ...detection, threshold: settings.threshold, label: detection.good ? 'OK' : 'NG', calibratedMap };
  }
  const decoded = await decodeForModel(bytes, modelWorkingSize(model));
  return predictRaster(model, decoded.raster, decoded.info, overrides);
}

export function serializeModel(model: TrainedModel): Uint8Array {
  // The wall-clock training time is left out: the same data and seed must give the same bytes.
  const { trainSeconds: _wallClock, ...stored } = model;
  return encodeBlob({ kind: 'kensa-model', ...stored } as unknown as Record<string, unknown>);
}

export function deserializeModel(bytes: Uint8Array): TrainedModel {
  const header = decodeBlob(bytes) as unknown as TrainedModel & { kind?: string };
  if (header.kind !== 'kensa-model') throw new ModelFormatError('Not a Kensa model file');
  const algorithm = getAlgorithm(header.algorithm);
  if (header.algorithmVersion !== algorithm.version) {
    throw new ModelFormatError(
      `Model was trained with ${header.algorithm} version ${header.algorithmVersion} (engine ${header.engineVersion}); this engine has version ${algorithm.version} (engine ${ENGINE_VERSION}): retrain the model`);
  }
  const { kind: _kind, ...model } = header;
  return { ...model, trainSeconds: model.trainSeconds ?? 0 };
}

export { quantile };
export { MAX_HELD_OUT_OK_MAPS } from './training/cross-fit.ts';
