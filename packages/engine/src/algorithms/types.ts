import type { CompactMap, FloatMap, PixelBox, Raster } from '../image/raster.ts';
import { Random } from '../kernels/random.ts';
import type { Bilingual, ParameterSpec, ParamValues } from '../params/schema.ts';
import type { AlgorithmStep, StageValues } from '../training/progress.ts';

/** A training sample's raster changed only inside the box (see `compactAnomalyMap`). */
export interface AlteredSample extends PixelBox {
  of: TrainingSample;
}

/** A box in pixels: inclusive min, exclusive max. */
export interface Box {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
}

/**
 * One training image at working resolution; boxes already scaled to the raster's pixels. The raster is read with
 * `load()`, which may decode the image again at each call (the engine keeps only a bounded cache of decoded images):
 * an algorithm reads a raster, uses it and lets it go, and holds every raster only when it must (see `atMostImages`).
 * A raster may be shared between reads: never write into one.
 */
export interface TrainingSample {
  load(): Promise<Raster>;
  /**
   * The image decoded anew to fit `maxSide` (samples the engine decodes; not tiles): for an algorithm whose `decide`
   * settles the side its images are decoded at (`workingSide`).
   */
  loadAt?(maxSide: number): Promise<Raster>;
  /** true = OK, false = NG, null = unlabelled. */
  good: boolean | null;
  boxes: Box[];
  /** The index of the training image it comes from (not set for tiles), so that held-out scores name their image. */
  source?: number;
  /** `load` makes a new raster at each call, which the caller may keep or hand on (to another thread, without a copy). */
  fresh?: boolean;
}

/** A sample whose raster is already in memory (tiles, tests). */
export function sampleOf(raster: Raster, good: boolean | null, boxes: Box[] = []): TrainingSample {
  return { load: () => Promise.resolve(raster), good, boxes };
}

/** The rasters of some samples, read one after the other: for algorithms that need them all at once. */
export async function loadRasters(samples: TrainingSample[], signal?: AbortSignal): Promise<Raster[]> {
  const rasters: Raster[] = [];
  for (const sample of samples) {
    checkAborted(signal);
    rasters.push(await sample.load());
  }
  return rasters;
}

/**
 * OK images that an algorithm holding all of its training rasters at once (LP, OC, IF, RF) learns from at most: a
 * seeded draw of this many when there are more, so that its memory stops growing with the image count (500 rasters of
 * 256×256 are 0.4 GB). Every set of the development suite has fewer (at most 400), so their models are what they were.
 * Such an algorithm states it as `maxOkImages` (shown in the algorithm guide) and in its README.
 */
export const MAX_HELD_TRAINING_IMAGES = 500;

/** The samples themselves when there are at most `max`, else a seeded draw of `max` of them in their order. */
export function atMostImages(samples: TrainingSample[], seed: number, max = MAX_HELD_TRAINING_IMAGES): TrainingSample[] {
  if (samples.length <= max) return samples;
  const kept = new Set(new Random(seed + 61).sample(samples.length, max));
  return samples.filter((_, i) => kept.has(i));
}

export interface ProgressReport {
  (fraction: number, step?: AlgorithmStep, values?: StageValues): void;
}

export interface TrainContext {
  onProgress: ProgressReport;
  signal?: AbortSignal;
  /** What the algorithm's `decide` settled once on all the training images; absent when training decides itself. */
  decided?: ModelState;
  /**
   * Training samples the engine will map later with models of this training (held-out and threshold maps, naming the
   * sample: `anomalyMap`'s `from`): what the algorithm computes from them here may be kept for those maps.
   */
  mappedLater?: ReadonlySet<TrainingSample>;
}

/**
 * What an algorithm learns: plain JSON-able values and typed arrays, nested freely.
 * `model/blob.ts` serialises any such tree, so algorithms write no encoding code.
 */
export type ModelState = { [key: string]: StateValue };
export type StateValue =
  | number | string | boolean | null
  | Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array
  | StateValue[] | { [key: string]: StateValue };

/**
 * One algorithm: its own folder under `algorithms/<id>/` exports one of these.
 * The engine does everything around it: decoding, calibration, thresholds, AutoTune, post-processing.
 */
export interface AlgorithmDefinition<S extends ModelState = ModelState> {
  id: string;
  name: string;
  type: 'unsupervised' | 'supervised';
  /** Bumped when a change makes older models of this algorithm predict differently. */
  version: number;
  description: Bilingual;
  learnsFrom: Bilingual;
  parameters: ParameterSpec[];
  /** Which labelled samples the algorithm needs; the engine refuses to train without them. */
  requires: { okImages: number; ngImagesWithBoxes?: number };
  /**
   * OK images it learns from at most, when it holds all of their rasters at once: with more, a seeded draw of this many
   * (`atMostImages`), so that its memory stops growing with the image count. The algorithm guide states it.
   */
  maxOkImages?: number;
  /**
   * The engine's calibration for this algorithm when training does not name one (default 'location'); 'auto' lets
   * the engine choose global, border or location calibration on held-out images (PS).
   */
  calibration?: 'global' | 'location' | 'border' | 'auto';
  /** With calibration 'auto': the modes to choose from, the default first (a later one must be more sensitive in both held-out halves; default global, border, location). */
  calibrationCandidates?: ('global' | 'location' | 'border')[];
  /**
   * Border calibration's bands: 'level' divides each by its held-out level (default); 'two-point' also sends the band's
   * median to the global median below the level (`borderLines` in calibration/calibrate.ts).
   */
  borderCalibration?: 'level' | 'two-point';
  train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<S> | S;
  /**
   * Settings the algorithm decides from the training images by held-out checks (PS: resolution, normalisation), decided
   * once on all of them and handed to every `train` of this training (`context.decided`): the cross-fitting folds are
   * then trained as the final model is (their held-out maps calibrate that model), and the checks do not run three times.
   * What it returns may settle the longest side the images are decoded at, as a number `workingSide` (read with
   * `TrainingSample.loadAt`): the engine then decodes the training images at that side for the folds and the final model,
   * and every image the model predicts (`TrainedModel.workingSize`).
   */
  decide?(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<ModelState>;
  /**
   * Raw anomaly map of one image (higher = more anomalous), at any resolution: the engine resamples it
   * to the raster's size. Must be pure: same state and raster, same map. In training, the engine names the training
   * sample the raster was read from (`from`), so that the algorithm may reuse what its trains computed from that image
   * (PS: the learned filters' planes); the map must be the same with or without it.
   */
  anomalyMap(state: S, raster: Raster, params: ParamValues, from?: TrainingSample): FloatMap;
  /**
   * Optional: the same map in a smaller form whose `expand()` gives exactly what `anomalyMap` gives (PS: its patch
   * scores). The engine holds every held-out map of cross-fitting until calibration reads them; this way they do not
   * cost a full map each. `altered`: the raster is a training sample's raster, as this state last mapped it (with
   * `from`), changed only inside a box (a synthetic defect drawn into it): the algorithm may reuse that map outside
   * the box's reach (PS); the map must be the same, up to rounding, as without it.
   */
  compactAnomalyMap?(state: S, raster: Raster, params: ParamValues, from?: TrainingSample, altered?: AlteredSample): CompactMap;
  /**
   * Optional, with `adoptKeptForLaterTrains`: what the trains of one training (by its `decided`) kept for its later
   * trains, as plain data naming samples by `indexOf` (PS: each cross-fitting fold's patch reservoir, which the final
   * train draws its own from). The engine trains the folds on worker threads and hands this to the final train's thread,
   * which adopts it naming the same samples by `sampleAt`.
   */
  keptForLaterTrains?(decided: ModelState, indexOf: (sample: TrainingSample) => number): StateValue | null;
  adoptKeptForLaterTrains?(decided: ModelState, kept: StateValue, sampleAt: (index: number) => TrainingSample): void;
  /**
   * What the algorithm decided from the training images (e.g. PS's placement), each with the measurements that
   * decided it; the engine lists them with AutoTune's choices in the model's evaluation.
   */
  choices?(state: S): Record<string, { chosen: unknown; scores: Record<string, number> }>;
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TrainingAbortedError();
}

export class TrainingAbortedError extends Error {
  constructor() {
    super('Training was cancelled');
    this.name = 'TrainingAbortedError';
  }
}
