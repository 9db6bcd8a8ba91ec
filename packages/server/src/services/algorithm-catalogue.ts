/**
 * The algorithm catalogue: what GET /algorithms lists (from the engine's own parameter schemas), and how the
 * parameters a request names are checked against it, for training and for prediction-time changes.
 */
import {
  ALGORITHMS, describeRange, findAlgorithm, formatParamValue, ParameterError, ParameterErrors, parseParamValue, resolveParams, type AlgorithmDefinition,
  type ModelState,
} from '@kensa/engine';
import { ApiError, message } from '../http/errors.ts';
import { parameterReason } from '../http/validation.ts';
import type { Language, Message } from '../i18n/index.ts';

/** A parameter as requests name it: by Kensa's id, or by the original's where it published one. */
export interface ParameterOverride {
  algorithm_parameter_id: number | string;
  value: unknown;
}

/** The date the catalogue reports for its parameters (they are defined in code, not edited). */
const CATALOGUE_DATE = '2026-01-01T00:00:00Z';

/**
 * Parameter ids the original service published (its GetAlgorithms answer and SDK), by algorithm, naming the
 * same parameter here; they are accepted beside Kensa's own ids, so that code written against the original trains.
 */
const ORIGINAL_PARAMETER_IDS: Record<string, Record<number, string>> = {
  OC: { 249: 'min_inspection_size', 252: 'nu_max' },
};

/** The algorithm of that id; a 400 naming the ones there are otherwise. */
export function requireAlgorithm(id: string): AlgorithmDefinition<ModelState> {
  const algorithm = findAlgorithm(id);
  if (!algorithm) throw new ApiError(400, 'unknownAlgorithm', message('unknownAlgorithmId', { id, ids: ALGORITHMS.map((a) => a.id).join(', ') }));
  return algorithm;
}

/** The parameter an `algorithm_parameter_id` names: Kensa's id, else the original's id of the same parameter. */
function parameterById(algorithm: AlgorithmDefinition<ModelState>, id: number | string) {
  const number = Number(id);
  const originalName = ORIGINAL_PARAMETER_IDS[algorithm.id]?.[number];
  return algorithm.parameters.find((p) => p.id === number) ?? algorithm.parameters.find((p) => p.name === originalName);
}

/** GET /algorithms. */
export function listAlgorithms(language: Language) {
  if (ALGORITHMS.length === 0) throw new ApiError(404, 'noAlgorithms');
  return ALGORITHMS.map((algorithm) => ({
    algorithm_id: algorithm.id,
    name: algorithm.name,
    type: algorithm.type,
    description: algorithm.description[language],
    learns_from: algorithm.learnsFrom[language],
    parameters: algorithm.parameters.map((spec) => ({
      algorithm_parameter_id: spec.id,
      name: spec.name,
      data_type: spec.type,
      value: formatParamValue(spec.default),
      range: describeRange(spec),
      auto_tune: spec.autoTune ? spec.autoTune.map((v) => formatParamValue(v)) : null,
      model_parameter: spec.modelParameter,
      description: spec.description[language],
      created_at: CATALOGUE_DATE,
      updated_at: CATALOGUE_DATE,
    })),
  }));
}

/**
 * A training's parameters: the overrides by name as requested, and every parameter resolved (AutoTune's are left
 * out). One 400 names every problem, in the order of the request's overrides.
 */
export function trainingParameters(algorithm: AlgorithmDefinition<ModelState>, requested: ParameterOverride[]) {
  const problems: { position: number; message: Message }[] = [];
  const overrides: Record<string, unknown> = {};
  const positionOf = new Map<string, number>();
  requested.forEach((override, position) => {
    const spec = parameterById(algorithm, override.algorithm_parameter_id);
    if (!spec) problems.push({ position, message: message('unknownParameterId', { id: String(override.algorithm_parameter_id), algorithm: algorithm.id }) });
    else {
      overrides[spec.name] = override.value;
      positionOf.set(spec.name, position);
    }
  });
  let resolved: Record<string, unknown> = {};
  try {
    resolved = resolveParams(algorithm.parameters, overrides).values;
  } catch (error) {
    if (!(error instanceof ParameterErrors)) throw error;
    for (const e of error.errors) {
      const id = algorithm.parameters.find((p) => p.name === e.parameter)?.id ?? '?';
      problems.push({ position: positionOf.get(e.parameter) ?? 0, message: message('badParameter', { name: e.parameter, id, reason: parameterReason(e.problem) }) });
    }
  }
  problems.sort((a, b) => a.position - b.position);
  if (problems.length > 0) throw new ApiError(400, 'invalidParameters', problems.map((p) => p.message));
  return { overrides, resolved };
}

/**
 * Prediction-time parameters (model_parameter false: threshold, min_detected_area, …) changed on a trained model:
 * `current` with the requested changes; one 400 names every problem, including parameters that need retraining.
 */
export function predictionParameters(algorithm: AlgorithmDefinition<ModelState>, current: Record<string, unknown>, requested: ParameterOverride[]) {
  const changed = { ...current };
  const problems: Message[] = [];
  for (const override of requested) {
    const spec = parameterById(algorithm, override.algorithm_parameter_id);
    if (!spec) {
      problems.push(message('unknownParameterId', { id: String(override.algorithm_parameter_id), algorithm: algorithm.id }));
    } else if (spec.modelParameter) {
      problems.push(message('parameterNeedsRetraining', { name: spec.name, id: spec.id }));
    } else {
      try {
        changed[spec.name] = parseParamValue(spec, override.value);
      } catch (error) {
        if (!(error instanceof ParameterError)) throw error;
        problems.push(message('badParameter', { name: spec.name, id: spec.id, reason: parameterReason(error.problem) }));
      }
    }
  }
  if (problems.length > 0) throw new ApiError(400, 'invalidParameters', problems);
  return changed;
}
