import type { Box, StageValues, TrainingStage } from '@kensa/engine';

/** Messages between the main thread and a worker thread. */
export type ToWorker =
  | { type: 'run'; jobId: number; name: string; input: unknown }
  | { type: 'abort'; jobId: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; jobId: number; fraction: number; stage?: TrainingStage; values?: StageValues }
  | { type: 'done'; jobId: number; output: unknown }
  | { type: 'failed'; jobId: number; error: { name: string; message: string } };

/** How far a job has come; training also says at which stage (the engine's ids, worded by the main thread). */
export type ProgressReport = (fraction: number, stage?: TrainingStage, values?: StageValues) => void;

/** Heavy work the workers know, by name; the input and output of each. */
export interface TrainInput {
  algorithmId: string;
  /** `imageId` names the image in the held-out scores of the evaluation. */
  images: { path: string; good: boolean | null; boxes: Box[]; imageId?: number }[];
  /** Overrides by parameter name, already validated against the algorithm's specs. */
  overrides: Record<string, unknown>;
  blobPath: string;
}

export interface TrainOutput {
  params: Record<string, unknown>;
  threshold: number;
  trainedOn: { ok: number; ng: number; unlabelled: number };
  evaluation: {
    auroc: number | null;
    aurocSource: string;
    threshold: number;
    thresholdReason: string;
    confusion: { tp: number; fp: number; tn: number; fn: number; precision: number; recall: number; f1: number } | null;
    /** Each held-out image's score (absent in models trained before it was kept). */
    heldOut?: { imageId: number | null; good: boolean; score: number }[];
  };
  autoTuned: Record<string, { chosen: unknown; scores: Record<string, number> }>;
  trainSeconds: number;
}

export interface PredictInput {
  blobPath: string;
  /** Prediction-time parameters changed after training, by name. */
  overrides: Record<string, unknown>;
  /** width/height: the original's size, which the heatmap is scaled to so that it lays over the image. */
  images: { imageId: number; path: string; width: number; height: number; overlayPath: string; heatmapPath: string }[];
}

export interface ImagePrediction {
  imageId: number;
  score: number;
  good: boolean;
  threshold: number;
  detectionAccuracy: number;
  boxes: (Box & { score: number })[];
}

export interface PredictOutput {
  predictions: ImagePrediction[];
}

/** Synchronous inspection: predictions of files in the answer, nothing stored; heatmaps only when asked. */
export interface InspectInput {
  blobPath: string;
  overrides: Record<string, unknown>;
  /** width/height: the original's size, which a rendered heatmap is scaled to. */
  files: { path: string; fileName: string; width: number; height: number }[];
  /** Rendering costs time on the line: only when the caller asks for heatmaps. */
  renderHeatmaps: boolean;
}

export interface InspectOutput {
  results: (Omit<ImagePrediction, 'imageId'> & { fileName: string; label: 'OK' | 'NG'; heatmapPng: Uint8Array | null })[];
  /** Files the worker could not decode (the request checked headers only, to answer quickly): refused with their reason. */
  refused: { fileName: string; code: string; message: string }[];
}

/** Reading a model file someone brings (import): checked and summarised off the event loop. */
export interface ReadModelInput {
  path: string;
}

export interface ReadModelOutput {
  algorithm: string;
  params: Record<string, unknown>;
  evaluation: TrainOutput['evaluation'];
  trainedOn: TrainOutput['trainedOn'];
}

/** Jobs kept in the database queue (they survive restarts). */
export const QUEUED_JOB_NAMES = ['train', 'predict'] as const;
export type QueuedJobName = (typeof QUEUED_JOB_NAMES)[number];
/** Jobs run for one request, not persisted (their caller waits for them). */
export const TRANSIENT_JOB_NAMES = ['inspect', 'read-model'] as const;
export type TransientJobName = (typeof TRANSIENT_JOB_NAMES)[number];
export type WorkerJobName = QueuedJobName | TransientJobName;
