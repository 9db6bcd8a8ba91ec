import { TrainingAbortedError, type AlgorithmDefinition, type ModelState } from '../algorithms/types.ts';
import { fitCalibration, largestCalibrated, type Calibration, type CalibrationFitOptions, type CalibrationMode, type HeldOutMap } from '../calibration/calibrate.ts';
import { aurocOf, chooseCalibration } from '../calibration/choose.ts';
import { MapReader } from '../image/raster.ts';
import { fromPortableSized, heldOutMap, toPortableSized, type CrossFit, type CrossFitMaps, type PortableSizedMap } from './cross-fit.ts';
import { startTypeScriptWorker } from './typescript-worker.ts';

/** What the held-out maps say: the calibration fitted on them, and every held-out image's score under it. */
export interface Validation {
  calibration: Calibration;
  /** With calibration 'auto': each candidate mode's held-out sensitivity (see chooseCalibration). */
  calibrationScores?: Record<string, number>;
  okScores: number[];
  ngScores: number[];
  syntheticScores: number[];
  auroc: number | null;
  aurocSource: 'ng_images' | 'synthetic_defects' | 'none';
  heldOut: { source: number | null; good: boolean; score: number }[];
}

/** How the held-out maps are calibrated: the mode asked for (or 'auto': chosen among candidates) and the fit options. */
export interface ValidationSettings {
  mode: CalibrationMode | 'auto';
  candidates?: CalibrationMode[];
  fitOptions: CalibrationFitOptions;
}

/** An algorithm's validation settings: its border bands by two points (`AlgorithmDefinition.borderCalibration`). */
export function validationSettings(algorithm: AlgorithmDefinition<ModelState>, mode: CalibrationMode | 'auto'): ValidationSettings {
  return { mode, candidates: algorithm.calibrationCandidates, fitOptions: { borderMedians: algorithm.borderCalibration === 'two-point' } };
}

export function validate(fit: CrossFit, { mode, candidates, fitOptions }: ValidationSettings): Validation {
  const [okMaps, ngMaps, syntheticMaps] = [fit.okMaps, fit.ngMaps, fit.syntheticMaps].map((maps) => maps.map(heldOutMap));
  const choice = mode === 'auto'
    ? chooseCalibration(okMaps, candidates, fitOptions)
    : { mode, scores: undefined };
  const calibration = fitCalibration(okMaps, choice.mode, fitOptions);
  const reader = new MapReader();
  const scoreOf = (m: HeldOutMap) => largestCalibrated(reader.read(m), calibration);
  const okScores = okMaps.map(scoreOf);
  const ngScores = ngMaps.map(scoreOf);
  const syntheticScores = syntheticMaps.map(scoreOf);
  const positives = ngScores.length > 0 ? ngScores : syntheticScores;
  const value = positives.length > 0 && okScores.length > 0 ? aurocOf(okScores, positives) : null;
  const heldOut = [
    ...okScores.map((score, i) => ({ source: fit.okSources[i] ?? null, good: true, score })),
    ...ngScores.map((score, i) => ({ source: fit.ngSources[i] ?? null, good: false, score })),
  ];
  return {
    calibration, calibrationScores: choice.scores, okScores, ngScores, syntheticScores, auroc: value, heldOut,
    aurocSource: ngScores.length > 0 ? 'ng_images' : syntheticScores.length > 0 ? 'synthetic_defects' : 'none',
  };
}

/** A cross-fit as it crosses to another thread. */
export type PortableCrossFit = CrossFitMaps<PortableSizedMap>;

export function toPortableCrossFit(fit: CrossFit): PortableCrossFit {
  return { ...fit, okMaps: fit.okMaps.map(toPortableSized), ngMaps: fit.ngMaps.map(toPortableSized), syntheticMaps: fit.syntheticMaps.map(toPortableSized) };
}

export function fromPortableCrossFit(fit: PortableCrossFit): CrossFit {
  return { ...fit, okMaps: fit.okMaps.map(fromPortableSized), ngMaps: fit.ngMaps.map(fromPortableSized), syntheticMaps: fit.syntheticMaps.map(fromPortableSized) };
}

/**
 * `validate` on a worker thread, so that the calling thread trains the final model meanwhile (the final model does not
 * need the validation, only its threshold does). The same result as `validate`.
 */
export function validateOnThread(fit: CrossFit, settings: ValidationSettings, signal?: AbortSignal): Promise<Validation> {
  const worker = startTypeScriptWorker(new URL('./validation-worker.ts', import.meta.url));
  const settled = new AbortController();
  const result = new Promise<Validation>((resolve, reject) => {
    signal?.addEventListener('abort', () => reject(new TrainingAbortedError()), { once: true, signal: settled.signal });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the validation worker stopped (exit code ${code})`)));
    worker.on('message', (message: { validation: Validation } | { error: { name: string; message: string } }) => {
      if ('validation' in message) resolve(message.validation);
      else reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
    });
  });
  worker.postMessage({ fit: toPortableCrossFit(fit), settings });
  return result.finally(() => {
    settled.abort();
    return worker.terminate();
  });
}
