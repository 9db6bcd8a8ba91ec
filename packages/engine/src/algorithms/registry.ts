import type { AlgorithmDefinition, ModelState } from './types.ts';
import { patternMatching } from './pm/index.ts';
import { patchSample } from './ps/index.ts';
import { localPatternInspection } from './lp/index.ts';
import { reconstructorInspection } from './rc/index.ts';
import { autoClassifiedInspection } from './ae/index.ts';
import { oneClassSvmInspection } from './oc/index.ts';
import { isolationForestInspection } from './if/index.ts';
import { randomForestInspection } from './rf/index.ts';

/**
 * Every algorithm the engine offers, in the order the API lists them. Adding an algorithm means adding
 * its folder and one line here.
 */
export const ALGORITHMS: AlgorithmDefinition<ModelState>[] = [
  reconstructorInspection,
  autoClassifiedInspection,
  oneClassSvmInspection,
  isolationForestInspection,
  randomForestInspection,
  patternMatching,
  localPatternInspection,
  patchSample,
] as unknown as AlgorithmDefinition<ModelState>[];

export const DEFAULT_ALGORITHM_ID = 'PS';

export class UnknownAlgorithmError extends Error {
  constructor(id: string) {
    super(`Unknown algorithm ${id}; known: ${ALGORITHMS.map((a) => a.id).join(', ')}`);
    this.name = 'UnknownAlgorithmError';
  }
}

/** The algorithm of an id, or undefined: the one lookup by id (callers that must have one use getAlgorithm). */
export function findAlgorithm(id: string): AlgorithmDefinition<ModelState> | undefined {
  return ALGORITHMS.find((a) => a.id === id);
}

export function getAlgorithm(id: string): AlgorithmDefinition<ModelState> {
  const algorithm = findAlgorithm(id);
  if (!algorithm) throw new UnknownAlgorithmError(id);
  return algorithm;
}
