import { getAlgorithm } from '../algorithms/registry.ts';
import type { AlgorithmDefinition, Box, ModelState } from '../algorithms/types.ts';

/** The labelled images a training would get, counted by whoever holds them (images in hand, or a server's rows). */
export interface TrainingDataCounts {
  ok: number;
  ng: number;
  /** NG images with at least one annotation box. */
  ngWithBoxes: number;
  unlabelled: number;
}

/** Why a set of images cannot train an algorithm: a code and the numbers behind it; the caller words it. */
export type TrainingDataProblem =
  | { code: 'no-images' }
  | { code: 'too-few-ok-images'; needed: number; got: number }
  | { code: 'too-few-annotated-ng-images'; needed: number; got: number };

export function countTrainingData(images: readonly { good: boolean | null; boxes?: readonly Box[] }[]): TrainingDataCounts {
  const counts: TrainingDataCounts = { ok: 0, ng: 0, ngWithBoxes: 0, unlabelled: 0 };
  for (const image of images) {
    if (image.good === true) counts.ok++;
    else if (image.good === null) counts.unlabelled++;
    else {
      counts.ng++;
      if ((image.boxes?.length ?? 0) > 0) counts.ngWithBoxes++;
    }
  }
  return counts;
}

/**
 * What keeps `algorithm` (its `requires`) from training on these counts; empty when nothing does. Pure, so that a
 * server can refuse a request before queueing it rather than fail the training later.
 */
export function checkTrainingData(algorithm: AlgorithmDefinition<ModelState> | string, counts: TrainingDataCounts): TrainingDataProblem[] {
  const { requires } = typeof algorithm === 'string' ? getAlgorithm(algorithm) : algorithm;
  if (counts.ok + counts.ng + counts.unlabelled === 0) return [{ code: 'no-images' }];
  const problems: TrainingDataProblem[] = [];
  if (counts.ok < requires.okImages) problems.push({ code: 'too-few-ok-images', needed: requires.okImages, got: counts.ok });
  const ngWithBoxes = requires.ngImagesWithBoxes ?? 0;
  if (counts.ngWithBoxes < ngWithBoxes) problems.push({ code: 'too-few-annotated-ng-images', needed: ngWithBoxes, got: counts.ngWithBoxes });
  return problems;
}
