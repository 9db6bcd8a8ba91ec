/**
 * The engine reports training as typed ids (stages, training-data problems); these tables word them from the
 * catalogues. Records over the engine's unions: a stage or problem the engine adds fails the type check here until
 * it has its words.
 */
import type { StageValues, TrainingDataProblem, TrainingStage } from '@kensa/engine';
import { message, type Message, type MessageKey } from './index.ts';

const STATUS_OF_STAGE: Record<TrainingStage, MessageKey> = {
  decoding: 'statusDecoding',
  tuning: 'statusAutoTune',
  calibrating: 'statusCalibrating',
  training: 'statusTrainingFinal',
  'patch-features': 'statusPatchFeatures',
  'sampling-patches': 'statusSamplingPatches',
  'learning-dictionary': 'statusLearningDictionary',
  'choosing-resolution': 'statusChoosingResolution',
  normalising: 'statusNormalising',
  placement: 'statusPlacement',
  'memory-bank': 'statusMemoryBank',
  'neighbour-index': 'statusNeighbourIndex',
  'growing-trees': 'statusGrowingTrees',
  'solving-svm': 'statusSolvingSvm',
  'scoring-patches': 'statusScoringPatches',
  epoch: 'statusEpoch',
  done: 'statusDone',
};

/** A model's status text for a training stage; a stage this version does not know (another version's worker) shows its id. */
export function statusOfStage(stage: TrainingStage, values: StageValues = {}): Message {
  const key = STATUS_OF_STAGE[stage] as MessageKey | undefined;
  return key ? message(key, { ...values }) : message('statusEngine', { text: stage });
}

const DETAIL_OF_PROBLEM: Record<TrainingDataProblem['code'], MessageKey> = {
  'no-images': 'trainingNoImages',
  'too-few-ok-images': 'trainingTooFewOkImages',
  'too-few-annotated-ng-images': 'trainingTooFewAnnotatedNgImages',
};

/** Why `algorithmId` cannot train on the images asked for, as an error detail. */
export function detailOfProblem(algorithmId: string, problem: TrainingDataProblem): Message {
  const { code, ...numbers } = problem;
  return message(DETAIL_OF_PROBLEM[code], { algorithm: algorithmId, ...numbers });
}
