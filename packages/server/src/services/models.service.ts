import {
  ALGORITHMS, DEFAULT_ALGORITHM_ID, describeRange, ImageDecodeError, type ImageErrorCode, formatParamValue, ParameterError, ParameterErrors, parseParamValue, resolveParams, type AlgorithmDefinition, type Box,
  type ModelState,
} from '@kensa/engine';
import { ApiError, message } from '../http/errors.ts';
import { parameterReason } from '../http/validation.ts';
import type { Language, Message } from '../i18n/index.ts';
import type { JobHandler, JobQueue } from '../jobs/queue.ts';
import { WorkerCrashError } from '../jobs/pool.ts';
import type { InspectInput, InspectOutput, PredictInput, PredictOutput, ReadModelOutput, TrainInput, TrainOutput } from '../jobs/protocol.ts';
import { rm } from 'node:fs/promises';
import { nowIso } from '../store/database.ts';
import { pathSegment, type DataFolder } from '../store/files.ts';
import type { JobRow } from '../store/jobs.repository.ts';
import type { ItemRow, ItemsRepository } from '../store/items.repository.ts';
import type { ModelRow, ModelsRepository } from '../store/models.repository.ts';
import type { CallbacksService } from './callbacks.service.ts';
import type { UrlBuilder } from './items.service.ts';
import { presentModel } from './models.wire.ts';
import { reasonOf } from './items.service.ts';
import type { EventsService } from './events.service.ts';
import { InspectHeatmapCache, SharedInspectHeatmaps, type InspectHeatmapStore } from './inspect-heatmaps.ts';
import type { LicenseService } from './license.service.ts';
import type { MqttService } from './mqtt.service.ts';
import type { TargetsService } from './targets.service.ts';

/** The date the algorithm catalogue reports for its parameters (they are defined in code, not edited). */
const CATALOGUE_DATE = '2026-01-01T00:00:00Z';

export interface TrainRequest {
  /** Absent: the engine's default algorithm. */
  algorithm_id?: string;
  name: string;
  /** Null (the original's SDK sends it for "no overrides") is the same as none. */
  override_params?: { algorithm_parameter_id: number | string; value: unknown }[] | null;
  item_ids?: string[];
  /** Target id or name (beyond the original); absent: the default target. */
  target?: string | number | null;
}

export interface ServeRequest {
  item_ids: string[];
  model_id?: number | string | null;
  /** Whose active model serves when no model is named; absent: the target of the items. */
  target?: string | number | null;
}

/** A failure whose status text is already a catalogue message. */
class StatusError extends Error {
  readonly status: Message;
  constructor(status: Message) {
    super(status.key);
    this.status = status;
  }
}

/** Maps the engine's progress texts to catalogue messages (unknown ones pass through as they are). */
function statusOfProgress(text: string): Message {
  if (text === 'decoding images') return message('statusDecoding');
  if (text === 'calibrating on held-out images') return message('statusCalibrating');
  if (text === 'training the final model') return message('statusTrainingFinal');
  if (text === 'done') return message('statusDone');
  if (text.startsWith('AutoTune ')) return message('statusAutoTune', { detail: text.slice('AutoTune '.length) });
  return message('statusEngine', { text });
}

function algorithmById(id: string): AlgorithmDefinition<ModelState> | undefined {
  return ALGORITHMS.find((a) => a.id === id);
}

/**
 * Parameter ids the original service published (its GetAlgorithms answer and SDK), by algorithm, naming the
 * same parameter here; they are accepted beside Kensa's own ids, so that code written against the original trains.
 */
const ORIGINAL_PARAMETER_IDS: Record<string, Record<number, string>> = {
  OC: { 249: 'min_inspection_size', 252: 'nu_max' },
};

/** The parameter an `algorithm_parameter_id` names: Kensa's id, else the original's id of the same parameter. */
function parameterById(algorithm: AlgorithmDefinition<ModelState>, id: number | string) {
  const number = Number(id);
  const originalName = ORIGINAL_PARAMETER_IDS[algorithm.id]?.[number];
  return algorithm.parameters.find((p) => p.id === number) ?? algorithm.parameters.find((p) => p.name === originalName);
}

function monthStart(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class ModelsService {
  private queue!: JobQueue;

  /** Heatmaps of unstored inspections, retrievable for a short while (in memory, or shared in scale-out). */
  inspectHeatmaps: InspectHeatmapStore = new InspectHeatmapCache();

  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly files: DataFolder,
    private readonly licenses: LicenseService,
    private readonly events: EventsService,
    private readonly callbacks: CallbacksService,
    private readonly targets: TargetsService,
    private readonly mqtt: MqttService,
  ) {}

  /** Tells event streams where a model stands now. */
  private async announceModel(modelId: number): Promise<void> {
    const model = await this.models.findById(modelId);
    if (!model) return;
    this.events.publish({
      type: 'model', clientId: model.client_id, model_id: model.model_id, status: model.status, progress: model.progress,
      status_text: model.status_json ? JSON.parse(model.status_json) as Message : null,
    });
  }

  private async announceItem(itemPk: number): Promise<void> {
    const [item] = await this.items.itemsByPk([itemPk]);
    if (item) this.events.publish({ type: 'item', clientId: item.client_id, item_id: item.item_id, status: item.status });
  }

  /** Scale-out: heatmaps of inspections wait in the shared storage, for whichever API server is asked for them. */
  shareInspectHeatmaps(): void {
    this.inspectHeatmaps = new SharedInspectHeatmaps(this.files, (clientId, id) => `inspect/${pathSegment(clientId)}/${id}.png`);
  }

  attachQueue(queue: JobQueue): void {
    this.queue = queue;
  }

  /** GET /algorithms, generated from the engine's own parameter schemas. */
  algorithms(language: Language) {
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

  /** The client's models, or those of one target when it is named. */
  async list(clientId: string, language: Language, target?: string, urls: UrlBuilder | null = null) {
    const targetId = target === undefined || target === '' ? null : (await this.targets.resolve(clientId, target)).target_id;
    const models = (await this.models.list(clientId)).filter((m) => targetId === null || m.target_id === targetId);
    return Promise.all(models.map((m) => this.present(m, language, urls)));
  }

  /** A model as answers carry it: the facts it needs are read here, the wire shape is models.wire.ts's. */
  async present(model: ModelRow, language: Language, urls: UrlBuilder | null = null) {
    const [firstItem] = JSON.parse(model.item_pks_json) as number[];
    const firstImageId = firstItem === undefined ? undefined : (await this.items.firstImageIdsOf(model.client_id, [firstItem])).get(firstItem);
    return presentModel(model, {
      outcomes: await this.items.confirmedOutcomes(model.model_id),
      firstImageId: firstImageId ?? null,
      targetsDefault: await this.models.newestNotFailed(model.client_id, model.target_id) === model.model_id,
    }, language, urls);
  }

  /** GET /models/{id} (beyond): one model with its evaluation. */
  async get(clientId: string, modelId: string, language: Language, urls: UrlBuilder | null = null) {
    const model = /^\d+$/.test(modelId) ? await this.models.find(clientId, Number(modelId)) : undefined;
    if (!model) throw new ApiError(404, 'modelsNotFound');
    return this.present(model, language, urls);
  }

  /**
   * PATCH /models/{id} (beyond): changes prediction-time parameters (those with model_parameter false:
   * threshold, min_detected_area, ignore_outer, …) without retraining; later predictions use them.
   */
  async updatePrediction(clientId: string, modelId: string, overrideParams: { algorithm_parameter_id: number | string; value: unknown }[], language: Language, urls: UrlBuilder | null = null) {
    const model = /^\d+$/.test(modelId) ? await this.models.find(clientId, Number(modelId)) : undefined;
    if (!model) throw new ApiError(404, 'modelsNotFound');
    const algorithm = algorithmById(model.algorithm_id);
    if (!algorithm) throw new ApiError(400, 'unknownAlgorithm', message('unknownAlgorithmId', { id: model.algorithm_id, ids: ALGORITHMS.map((a) => a.id).join(', ') }));
    const changes = JSON.parse(model.prediction_overrides_json) as Record<string, unknown>;
    const problems: Message[] = [];
    for (const override of overrideParams) {
      const spec = parameterById(algorithm, override.algorithm_parameter_id);
      if (!spec) {
        problems.push(message('unknownParameterId', { id: String(override.algorithm_parameter_id), algorithm: algorithm.id }));
      } else if (spec.modelParameter) {
        problems.push(message('parameterNeedsRetraining', { name: spec.name, id: spec.id }));
      } else {
        try {
          changes[spec.name] = parseParamValue(spec, override.value);
        } catch (error) {
          if (!(error instanceof ParameterError)) throw error;
          problems.push(message('badParameter', { name: spec.name, id: spec.id, reason: parameterReason(error.message) }));
        }
      }
    }
    if (problems.length > 0) throw new ApiError(400, 'invalidParameters', problems);
    await this.models.setPredictionOverrides(model.model_id, JSON.stringify(changes));
    return this.present((await this.models.findById(model.model_id))!, language, urls);
  }

  /** POST /models/{id}/export (beyond): the trained model's file, portable to another installation. */
  async exportFile(clientId: string, modelId: string): Promise<{ key: string; fileName: string }> {
    const model = /^\d+$/.test(modelId) ? await this.models.find(clientId, Number(modelId)) : undefined;
    if (!model) throw new ApiError(404, 'modelsNotFound');
    if (model.status !== 'active' || !model.blob_path) throw new ApiError(400, 'modelNotReady', message('modelStillTraining', { id: model.model_id }));
    return { key: model.blob_path, fileName: `${model.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.kensa-model` };
  }

  /**
   * POST /models/import (beyond): a model file from `export` becomes a trained model of this client
   * (checked in a worker: format, checksum, algorithm and its version) and, as the newest, the active one.
   */
  async importFile(clientId: string, temporaryPath: string, fileName: string, language: Language, target?: string | null) {
    const limits = await this.licenses.requireActive(clientId);
    const targetRow = await this.targets.resolve(clientId, target);
    if (limits.max_models !== null && await this.models.count(clientId) >= limits.max_models) {
      throw new ApiError(403, 'licenseLimitReached', message('licenseMaxModels', { max: limits.max_models }));
    }
    let summary: ReadModelOutput;
    try {
      summary = await this.queue.runNow('read-model', { path: temporaryPath }) as ReadModelOutput;
    } catch (error) {
      throw new ApiError(400, 'invalidRequest', error instanceof Error ? error.message : String(error));
    }
    const algorithm = algorithmById(summary.algorithm);
    const model = await this.models.insert({
      client_id: clientId,
      target_id: targetRow.target_id,
      name: fileName.replace(/\.kensa-model$/, '') || `imported ${summary.algorithm}`,
      algorithm_id: summary.algorithm,
      algorithm_type: algorithm?.type ?? 'unsupervised',
      overrides_json: '{}',
      parameters_json: JSON.stringify(summary.params),
      item_pks_json: '[]',
      ok_img_count: summary.trainedOn.ok,
      ng_img_count: summary.trainedOn.ng,
    }, message('statusDone'));
    await this.files.adopt(temporaryPath, this.blobPathOf(model));
    await this.models.markTrained(model.model_id, {
      blobPath: this.blobPathOf(model), parametersJson: JSON.stringify(summary.params), evaluationJson: JSON.stringify(summary.evaluation),
      ok: summary.trainedOn.ok, ng: summary.trainedOn.ng,
    }, message('statusDone'));
    return this.present((await this.models.findById(model.model_id))!, language);
  }

  /** The model a prediction uses: the one named, else the target's active one; 400 when there is none. */
  async servingModel(clientId: string, modelId: number | string | null | undefined, targetId: number): Promise<ModelRow> {
    const model = modelId !== undefined && modelId !== null && modelId !== ''
      ? await this.models.find(clientId, Number(modelId))
      : await this.models.activeModel(clientId, targetId);
    if (!model || model.status !== 'active' || !model.blob_path) throw new ApiError(400, 'noAvailableModel');
    return model;
  }

  /**
   * POST /inspect (beyond): predictions of checked files in the answer, computed in a worker. With
   * `heatmapUrl`, heatmaps are rendered too and kept for a while in `inspectHeatmaps`, their URLs in the answer.
   */
  async inspect(
    clientId: string, files: InspectInput['files'], modelId: string | null, target: string | null = null,
    heatmapUrl: ((heatmapId: string) => string) | null = null,
  ) {
    await this.licenses.requireActive(clientId);
    const model = await this.servingModel(clientId, modelId, (await this.targets.resolve(clientId, target)).target_id);
    const input: InspectInput = {
      blobPath: await this.files.localPath(model.blob_path!), overrides: JSON.parse(model.prediction_overrides_json), files, renderHeatmaps: heatmapUrl !== null,
    };
    const output = await this.queue.runNow('inspect', input) as InspectOutput;
    if (output.refused.length > 0) {
      throw new ApiError(400, 'invalidRequest', output.refused.map((r) => message('invalidFilenameBecause', {
        name: r.fileName, reason: reasonOf(new ImageDecodeError(r.code as ImageErrorCode, r.message), Infinity),
      })));
    }
    const results = [];
    for (const r of output.results) {
      results.push({
        file_name: r.fileName, good: r.good, score: r.score, label: r.label, detected_objects: r.boxes.length,
        detection_accuracy: r.detectionAccuracy, boxes: r.boxes,
        heatmap_url: r.heatmapPng && heatmapUrl ? heatmapUrl(await this.inspectHeatmaps.put(clientId, r.heatmapPng)) : null,
      });
    }
    return { model, results };
  }

  /** POST /train: validates everything, stores the model as "creating" and queues its training. */
  async train(clientId: string, request: TrainRequest, language: Language, urls: UrlBuilder | null = null) {
    const limits = await this.licenses.requireActive(clientId);
    if (limits.max_models !== null && await this.models.count(clientId) >= limits.max_models) {
      throw new ApiError(403, 'licenseLimitReached', message('licenseMaxModels', { max: limits.max_models }));
    }
    const target = await this.targets.resolve(clientId, request.target);
    const algorithmId = request.algorithm_id ?? DEFAULT_ALGORITHM_ID;
    const algorithm = algorithmById(algorithmId);
    if (!algorithm) {
      throw new ApiError(400, 'unknownAlgorithm', message('unknownAlgorithmId', { id: algorithmId, ids: ALGORITHMS.map((a) => a.id).join(', ') }));
    }
    // Problems are reported in the order of the request's override_params.
    const problems: { position: number; message: Message }[] = [];
    const overrides: Record<string, unknown> = {};
    const positionOf = new Map<string, number>();
    (request.override_params ?? []).forEach((override, position) => {
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
        problems.push({ position: positionOf.get(e.parameter) ?? 0, message: message('badParameter', { name: e.parameter, id, reason: parameterReason(e.message) }) });
      }
    }
    problems.sort((a, b) => a.position - b.position);
    if (problems.length > 0) throw new ApiError(400, 'invalidParameters', problems.map((p) => p.message));

    let trainingItems: ItemRow[];
    if (request.item_ids !== undefined && request.item_ids !== null) {
      const unique = [...new Set(request.item_ids.map(String))];
      trainingItems = await this.items.findItems(clientId, unique);
      // A model learns from its own target's items only.
      if (trainingItems.length !== unique.length || trainingItems.some((i) => i.target_id !== target.target_id)) throw new ApiError(403, 'itemAccessDenied');
    } else {
      trainingItems = await this.items.trainingItems(clientId, target.target_id);
    }
    const imagesOf = new Map<number, number>();
    for (const item of trainingItems) imagesOf.set(item.pk, (await this.items.imagesOfItem(item.pk)).length);
    const imageCount = (good: number) => trainingItems.filter((i) => i.good === good).reduce((n, i) => n + imagesOf.get(i.pk)!, 0);
    const model = await this.models.insert({
      client_id: clientId,
      target_id: target.target_id,
      name: request.name,
      algorithm_id: algorithm.id,
      algorithm_type: algorithm.type,
      overrides_json: JSON.stringify(overrides),
      parameters_json: JSON.stringify(resolved),
      item_pks_json: JSON.stringify(trainingItems.map((i) => i.pk)),
      ok_img_count: imageCount(1),
      ng_img_count: imageCount(0),
    }, message('statusQueued'));
    await this.queue.enqueue('train', clientId, { modelId: model.model_id });
    await this.announceModel(model.model_id);
    return this.present(model, language, urls);
  }

  /** DELETE /model: all named models or none; their training stops and their files go. */
  async delete(clientId: string, modelIds: (number | string)[]): Promise<void> {
    // An id that is no number names no model: a 404 like any unknown id.
    const ids = modelIds.map((id) => (typeof id === 'number' || /^\d+$/.test(id) ? Number(id) : NaN));
    const rows = await Promise.all(ids.map((id) => (Number.isSafeInteger(id) ? this.models.find(clientId, id) : undefined)));
    if (rows.length === 0 || rows.some((r) => r === undefined)) throw new ApiError(404, 'untitled', message('noModelFound'));
    const resultFiles = (await Promise.all(ids.map((id) => this.items.resultPathsOfModel(id)))).flat();
    for (const job of (await this.queue.pending()).filter((j) => j.client_id === clientId)) {
      const payload = JSON.parse(job.payload_json) as { modelId?: number; itemPk?: number };
      if (payload.modelId === undefined || !ids.includes(payload.modelId)) continue;
      await this.queue.cancel(job.job_id);
      // An item waiting for this model's prediction is no longer waiting.
      if (payload.itemPk !== undefined) await this.items.setItemFailed(payload.itemPk, JSON.stringify(message('predictionFailedModelGone')));
    }
    await this.models.delete(clientId, ids);
    // A model still training has no blob_path yet; its file may exist if training ended just now.
    for (const row of rows) await this.files.remove(row!.blob_path ?? this.blobPathOf(row!));
    for (const path of resultFiles) await this.files.remove(path);
  }

  /** POST /serve: queues a prediction of each item with the chosen (or the active) model. */
  /** What counts against the licence limits, counted as `train`, `importFile` and `serve` count it. */
  async licenseUsage(clientId: string): Promise<{ models: number; predictions_this_month: number }> {
    return { models: await this.models.count(clientId), predictions_this_month: await this.items.countPredictedSince(clientId, monthStart()) };
  }

  async serve(clientId: string, request: ServeRequest) {
    const limits = await this.licenses.requireActive(clientId);
    const unique = [...new Set(request.item_ids.map(String))];
    const items = await this.items.findItems(clientId, unique);
    if (unique.length === 0 || items.length !== unique.length) throw new ApiError(404, 'itemsNotFound');
    const targetId = request.target !== undefined && request.target !== null && request.target !== ''
      ? (await this.targets.resolve(clientId, request.target)).target_id
      : items[0].target_id;
    const model = await this.servingModel(clientId, request.model_id, targetId);
    if (limits.max_predictions_per_month !== null) {
      let images = 0;
      for (const item of items) images += (await this.items.imagesOfItem(item.pk)).length;
      if (await this.items.countPredictedSince(clientId, monthStart()) + images > limits.max_predictions_per_month) {
        throw new ApiError(403, 'licenseLimitReached', message('licenseMaxPredictions', { max: limits.max_predictions_per_month }));
      }
    }
    // All or nothing: the items turn pending and their jobs are queued in one transaction.
    await this.queue.enqueueMany(items.map((item) => ({ name: 'predict' as const, clientId, payload: { modelId: model.model_id, itemPk: item.pk } })), async () => {
      await this.items.setItemsPending(items.map((i) => i.pk));
    });
    for (const item of items) await this.announceItem(item.pk);
    return { item_ids: unique, model_version: model.version };
  }

  /** GET /workers: what runs or waits for this client. */
  async workers(clientId: string) {
    const training: string[] = [];
    const predicting: string[] = [];
    for (const job of (await this.queue.pending()).filter((j) => j.client_id === clientId)) {
      const payload = JSON.parse(job.payload_json) as { modelId: number; itemPk?: number };
      if (job.name === 'train') {
        const model = await this.models.findById(payload.modelId);
        if (model) training.push(model.name);
      } else if (payload.itemPk !== undefined) {
        const [item] = await this.items.itemsByPk([payload.itemPk]);
        if (item && !predicting.includes(item.item_id)) predicting.push(item.item_id);
      }
    }
    return { training, predicting };
  }

  /** The main-thread side of training: gather the images, then store the result. */
  readonly trainJob: JobHandler = {
    prepare: async (job: JobRow): Promise<TrainInput | null> => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      const model = await this.models.findById(modelId);
      if (!model || model.status !== 'creating') return null;
      const images: TrainInput['images'] = [];
      for (const item of await this.items.itemsByPk(JSON.parse(model.item_pks_json) as number[])) {
        for (const image of await this.items.imagesOfItem(item.pk)) {
          const boxes: Box[] = (await this.items.annotationsOfImage(image.image_id))
            .map((a) => ({ x_min: a.x_min, x_max: a.x_max, y_min: a.y_min, y_max: a.y_max }));
          images.push({ path: await this.files.localPath(image.raw_path), good: item.good === null ? null : item.good === 1, boxes, imageId: image.image_id });
        }
      }
      if (images.length === 0) throw new StatusError(message('statusNoTrainingImages'));
      await this.models.setProgress(modelId, 0, message('statusDecoding'));
      await this.announceModel(modelId);
      return {
        algorithmId: model.algorithm_id,
        images,
        overrides: JSON.parse(model.overrides_json) as Record<string, unknown>,
        blobPath: this.files.scratchPath(`job-${job.job_id}.kensa-model`),
      };
    },
    onProgress: async (job, fraction, text) => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      await this.models.setProgress(modelId, Math.min(0.99, fraction), statusOfProgress(text));
      await this.announceModel(modelId);
    },
    onDone: async (job, output) => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      const written = this.files.scratchPath(`job-${job.job_id}.kensa-model`);
      const model = await this.models.findById(modelId);
      if (!model) {
        await rm(written, { force: true });
        return;
      }
      // The file first, then the row that points to it: a crash between them leaves a file nothing uses, never a row without its file.
      await this.files.adopt(written, this.blobPathOf(model));
      const result = output as TrainOutput;
      await this.models.markTrained(modelId, {
        blobPath: this.blobPathOf(model),
        parametersJson: JSON.stringify(result.params),
        evaluationJson: JSON.stringify({ ...result.evaluation, autoTuned: result.autoTuned, trainSeconds: result.trainSeconds }),
        ok: model.ok_img_count,
        ng: model.ng_img_count,
      }, message('statusDone'));
      await this.announceModel(modelId);
    },
    onFailed: async (job, error) => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      await rm(this.files.scratchPath(`job-${job.job_id}.kensa-model`), { force: true });
      const status = error instanceof StatusError ? error.status
        : error instanceof WorkerCrashError ? message('statusWorkerCrashed', { reason: error.message })
          : message('statusFailed', { reason: error.message });
      await this.models.markFailed(modelId, status);
      await this.announceModel(modelId);
    },
    onRequeued: async (job) => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      await this.models.setProgress(modelId, 0, message('statusRequeuedAfterRestart'));
      await this.announceModel(modelId);
    },
    onAbandoned: async (job) => {
      const { modelId } = JSON.parse(job.payload_json) as { modelId: number };
      await this.models.markFailed(modelId, message('statusFailedAfterRestarts', { count: job.attempts }));
      await this.announceModel(modelId);
    },
  };

  /** Where a prediction job's worker writes an image's overlay or heatmap before it is stored. */
  private renderedPath(job: JobRow, imageId: number, kind: 'overlay' | 'heatmap'): string {
    return this.files.scratchPath(`job-${job.job_id}-${imageId}.${kind}.png`);
  }

  /** The main-thread side of prediction: one item with one model; the assessments are written here. */
  readonly predictJob: JobHandler = {
    prepare: async (job: JobRow): Promise<PredictInput | null> => {
      const { modelId, itemPk } = JSON.parse(job.payload_json) as { modelId: number; itemPk: number };
      const model = await this.models.findById(modelId);
      const [item] = await this.items.itemsByPk([itemPk]);
      if (!item) return null;
      if (!model || !model.blob_path) {
        await this.items.setItemFailed(itemPk, JSON.stringify(message('predictionFailedModelGone')));
        await this.announceItem(itemPk);
        return null;
      }
      const images: PredictInput['images'] = [];
      for (const image of await this.items.imagesOfItem(itemPk)) {
        images.push({
          imageId: image.image_id,
          path: await this.files.localPath(image.raw_path),
          width: image.width,
          height: image.height,
          overlayPath: this.renderedPath(job, image.image_id, 'overlay'),
          heatmapPath: this.renderedPath(job, image.image_id, 'heatmap'),
        });
      }
      return { blobPath: await this.files.localPath(model.blob_path), overrides: JSON.parse(model.prediction_overrides_json) as Record<string, unknown>, images };
    },
    onDone: async (job, output) => {
      const { modelId, itemPk } = JSON.parse(job.payload_json) as { modelId: number; itemPk: number };
      const predictions = (output as PredictOutput).predictions;
      const rendered = predictions.flatMap((p) => [this.renderedPath(job, p.imageId, 'overlay'), this.renderedPath(job, p.imageId, 'heatmap')]);
      const [item] = await this.items.itemsByPk([itemPk]);
      if (!item || !await this.models.findById(modelId)) {
        // Deleted while it was being predicted: the results just rendered belong to nothing.
        for (const path of rendered) await rm(path, { force: true });
        return;
      }
      const now = nowIso();
      const folder = `results/${pathSegment(item.client_id)}/${modelId}`;
      for (const p of predictions) {
        await this.files.adopt(this.renderedPath(job, p.imageId, 'overlay'), `${folder}/${p.imageId}.overlay.png`);
        await this.files.adopt(this.renderedPath(job, p.imageId, 'heatmap'), `${folder}/${p.imageId}.heatmap.png`);
      }
      await this.items.transaction(async () => {
        for (const p of predictions) {
          await this.items.upsertAssessment({
            image_id: p.imageId, model_id: modelId, item_pk: itemPk, score: p.score, good: p.good ? 1 : 0, threshold: p.threshold,
            detected_objects: p.boxes.length, detection_accuracy: p.detectionAccuracy, boxes_json: JSON.stringify(p.boxes),
            overlay_path: `${folder}/${p.imageId}.overlay.png`, heatmap_path: `${folder}/${p.imageId}.heatmap.png`,
            created_at: now, finished_date: now,
          });
        }
        await this.items.setItemDone(itemPk);
      });
      await this.announceItem(itemPk);
      const finished = {
        event: 'prediction.finished',
        item_id: item.item_id,
        target_id: item.target_id,
        model_id: modelId,
        finished_date: now,
        good: predictions.every((p) => p.good),
        score: predictions.reduce((max, p) => Math.max(max, p.score), 0),
        detected_objects: predictions.reduce((n, p) => n + p.boxes.length, 0),
        images: predictions.map((p) => ({
          image_id: p.imageId, good: p.good, score: p.score, detection_accuracy: p.detectionAccuracy, boxes: p.boxes,
        })),
      };
      await this.callbacks.notify(item.client_id, modelId, finished);
      const target = await this.targets.byId(item.target_id);
      if (target) this.mqtt.publishPrediction(target, finished);
    },
    onFailed: async (job, error) => {
      // Done, since nothing more will happen, but without a verdict: the reason stays on the item.
      const { itemPk } = JSON.parse(job.payload_json) as { itemPk: number };
      await this.items.setItemFailed(itemPk, JSON.stringify(message('predictionFailed', { reason: `${error.name}: ${error.message}` })));
      await this.announceItem(itemPk);
    },
    onAbandoned: async (job) => {
      const { itemPk } = JSON.parse(job.payload_json) as { itemPk: number };
      await this.items.setItemFailed(itemPk, JSON.stringify(message('predictionFailedAfterRestarts', { count: job.attempts })));
      await this.announceItem(itemPk);
    },
  };

  private blobPathOf(model: ModelRow): string {
    return `models/${pathSegment(model.client_id)}/${model.model_id}.kensa-model`;
  }
}

