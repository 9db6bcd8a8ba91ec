import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ImageDecodeError, deserializeModel, predictImage, renderHeatmap, resizeMap, renderOverlay, serializeModel, trainModel, type ParamValues, type TrainedModel,
} from '@kensa/engine';
import type {
  ImagePrediction, InspectInput, InspectOutput, PredictInput, PredictOutput, ProgressReport, ReadModelInput, ReadModelOutput, TrainInput, TrainOutput,
  WorkerJobName,
} from './protocol.ts';

/** What a handler gets besides its input: progress reporting and cancellation. */
export interface HandlerContext {
  onProgress: ProgressReport;
  signal: AbortSignal;
}

type Handler = (input: never, context: HandlerContext) => Promise<unknown>;

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

async function train(input: TrainInput, context: HandlerContext): Promise<TrainOutput> {
  // Each file is read when training decodes it, not all up front: thousands of images need not fit in memory.
  const images = input.images.map((image) => ({ bytes: async () => new Uint8Array(await readFile(image.path)), good: image.good, boxes: image.boxes }));
  const model = await trainModel(input.algorithmId, images, input.overrides, {
    onProgress: context.onProgress,
    signal: context.signal,
  });
  await writeAtomically(input.blobPath, serializeModel(model));
  return {
    params: model.params as Record<string, unknown>,
    threshold: model.threshold,
    trainedOn: model.trainedOn,
    evaluation: {
      auroc: model.evaluation.auroc,
      aurocSource: model.evaluation.aurocSource,
      threshold: model.evaluation.threshold,
      thresholdReason: model.evaluation.thresholdReason,
      confusion: model.evaluation.confusion,
      heldOut: model.evaluation.heldOut.map((h) => ({ imageId: h.source === null ? null : input.images[h.source]?.imageId ?? null, good: h.good, score: h.score })),
    },
    autoTuned: model.autoTuned,
    trainSeconds: model.trainSeconds,
  };
}

// Serving predicts many items with one model: keep the last few deserialised models in the worker.
const modelCache = new Map<string, TrainedModel>();
const MODEL_CACHE_SIZE = 2;

async function loadModel(path: string): Promise<TrainedModel> {
  // Keyed by the file itself, not its name: a model file written anew under a name used before (a model id of an
  // installation from before ids stopped being reused, a re-downloaded blob) is another file, and is read again.
  const file = await stat(path);
  const key = `${path}:${file.dev}:${file.ino}:${file.size}:${file.mtimeMs}`;
  const cached = modelCache.get(key);
  if (cached) return cached;
  const model = deserializeModel(new Uint8Array(await readFile(path)));
  modelCache.set(key, model);
  while (modelCache.size > MODEL_CACHE_SIZE) modelCache.delete(modelCache.keys().next().value!);
  return model;
}

/** The calibrated-score range a heatmap's colours span (prediction overrides first). */
function heatmapRange(model: TrainedModel, overrides: ParamValues): [number, number] {
  const rangeValue = overrides.anomaly_range ?? model.params.anomaly_range;
  return Array.isArray(rangeValue) ? rangeValue as [number, number] : [0, 1];
}

async function predict(input: PredictInput, context: HandlerContext): Promise<PredictOutput> {
  const model = await loadModel(input.blobPath);
  const overrides = input.overrides as ParamValues;
  const range = heatmapRange(model, overrides);
  const predictions: ImagePrediction[] = [];
  for (const [index, image] of input.images.entries()) {
    if (context.signal.aborted) throw new Error('Prediction was cancelled');
    const bytes = new Uint8Array(await readFile(image.path));
    const prediction = await predictImage(model, bytes, overrides);
    const map = resizeMap(prediction.calibratedMap, image.width, image.height);
    await writeAtomically(image.heatmapPath, await renderHeatmap(map, prediction.threshold, range));
    await writeAtomically(image.overlayPath, await renderOverlay(bytes, prediction.boxes));
    predictions.push({
      imageId: image.imageId,
      score: prediction.score,
      good: prediction.good,
      threshold: prediction.threshold,
      detectionAccuracy: prediction.detectionAccuracy,
      boxes: prediction.boxes.map((b) => ({ x_min: b.x_min, x_max: b.x_max, y_min: b.y_min, y_max: b.y_max, score: b.score })),
    });
    context.onProgress((index + 1) / input.images.length);
  }
  return { predictions };
}

async function inspect(input: InspectInput, context: HandlerContext): Promise<InspectOutput> {
  const model = await loadModel(input.blobPath);
  const overrides = input.overrides as ParamValues;
  const results: InspectOutput['results'] = [];
  const refused: InspectOutput['refused'] = [];
  for (const file of input.files) {
    if (context.signal.aborted) throw new Error('Inspection was cancelled');
    let prediction;
    try {
      prediction = await predictImage(model, new Uint8Array(await readFile(file.path)), overrides);
    } catch (error) {
      if (!(error instanceof ImageDecodeError)) throw error;
      refused.push({ fileName: file.fileName, code: error.code, message: error.message });
      continue;
    }
    const heatmapPng = input.renderHeatmaps
      ? await renderHeatmap(resizeMap(prediction.calibratedMap, file.width, file.height), prediction.threshold, heatmapRange(model, overrides))
      : null;
    results.push({
      fileName: file.fileName, score: prediction.score, good: prediction.good, label: prediction.label, threshold: prediction.threshold,
      detectionAccuracy: prediction.detectionAccuracy,
      boxes: prediction.boxes.map((b) => ({ x_min: b.x_min, x_max: b.x_max, y_min: b.y_min, y_max: b.y_max, score: b.score })),
      heatmapPng,
    });
  }
  return { results, refused };
}

async function readModel(input: ReadModelInput): Promise<ReadModelOutput> {
  const model = deserializeModel(new Uint8Array(await readFile(input.path)));
  return {
    algorithm: model.algorithm,
    params: model.params as Record<string, unknown>,
    evaluation: {
      auroc: model.evaluation.auroc, aurocSource: model.evaluation.aurocSource, threshold: model.evaluation.threshold,
      thresholdReason: model.evaluation.thresholdReason, confusion: model.evaluation.confusion,
    },
    trainedOn: model.trainedOn,
  };
}

/** Every job a worker can run, by name. */
export const WORKER_HANDLERS: Record<WorkerJobName, Handler> = {
  train: train as Handler,
  predict: predict as Handler,
  inspect: inspect as Handler,
  'read-model': readModel as Handler,
};
