import type { FloatMap, Raster } from '../image/raster.ts';
import type { Bilingual, ParameterSpec, ParamValues } from '../params/schema.ts';
import type { AlgorithmStep, StageValues } from '../training/progress.ts';

/** A box in pixels: inclusive min, exclusive max. */
export interface Box {
  x_min: number;
  y_min: number;
  x_max: number;
  y_max: number;
}

/** One training image at working resolution; boxes already scaled to the raster's pixels. */
export interface TrainingSample {
  raster: Raster;
  /** true = OK, false = NG, null = unlabelled. */
  good: boolean | null;
  boxes: Box[];
  /** The index of the training image it comes from (not set for tiles), so that held-out scores name their image. */
  source?: number;
}

export interface ProgressReport {
  (fraction: number, step?: AlgorithmStep, values?: StageValues): void;
}

export interface TrainContext {
  onProgress: ProgressReport;
  signal?: AbortSignal;
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
   * The engine's calibration for this algorithm when training does not name one (default 'location'); 'auto' lets
   * the engine choose global, border or location calibration on held-out images (PS).
   */
  calibration?: 'global' | 'location' | 'border' | 'auto';
  /** With calibration 'auto': the modes to choose from, simplest first (default global, border, location). */
  calibrationCandidates?: ('global' | 'location' | 'border')[];
  train(samples: TrainingSample[], params: ParamValues, context: TrainContext): Promise<S> | S;
  /**
   * Raw anomaly map of one image (higher = more anomalous), at any resolution: the engine resamples it
   * to the raster's size. Must be pure: same state and raster, same map.
   */
  anomalyMap(state: S, raster: Raster, params: ParamValues): FloatMap;
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
