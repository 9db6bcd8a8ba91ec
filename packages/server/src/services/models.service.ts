import { findAlgorithm } from '@kensa/engine';
import { ApiError, message } from '../http/errors.ts';
import { tryReadJob } from '../jobs/payloads.ts';
import type { ReadModelOutput } from '../jobs/protocol.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { FileStore } from '../store/files.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import { modelFileKey, type ModelRow, type ModelsRepository } from '../store/models.repository.ts';
import { predictionParameters, requireAlgorithm, type ParameterOverride } from './algorithm-catalogue.ts';
import type { LicenseUsageService } from './license-usage.service.ts';
import type { LicenseService } from './license.service.ts';
import type { TargetsService } from './targets.service.ts';

/** What a model's answer needs beside its row. */
export interface ModelFacts {
  /** Predictions a person confirmed: what the model computed and what stood. */
  outcomes: { computedGood: boolean; finalGood: boolean }[];
  /** The first image the model learnt from (its `image_url`), if any. */
  firstImageId: number | null;
  /** Whether it is the model its target serves once every training has finished: the newest that has not failed. */
  targetsDefault: boolean;
}

/** A model with the facts its answer needs; models.wire.ts shapes it at the route. */
export interface ModelDetail {
  model: ModelRow;
  facts: ModelFacts;
}

/** A model's row with the facts read beside it. */
export async function readModelDetail(model: ModelRow, models: ModelsRepository, items: ItemsRepository): Promise<ModelDetail> {
  const [firstItem] = model.item_pks;
  const firstImageId = firstItem === undefined ? undefined : (await items.firstImageIdsOf(model.client_id, [firstItem])).get(firstItem);
  return {
    model,
    facts: {
      outcomes: await items.confirmedOutcomes(model.model_id),
      firstImageId: firstImageId ?? null,
      targetsDefault: await models.newestNotFailed(model.client_id, model.target_id) === model.model_id,
    },
  };
}

/** Trained models: listing and detail, prediction-time parameters, export and import, deletion. */
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly files: FileStore,
    private readonly licenses: LicenseService,
    private readonly licenseUsage: LicenseUsageService,
    private readonly targets: TargetsService,
    private readonly queue: JobQueue,
  ) {}

  /** The client's models, or those of one target when it is named. */
  async list(clientId: string, target?: string): Promise<ModelDetail[]> {
    const targetId = target === undefined || target === '' ? null : (await this.targets.resolve(clientId, target)).target_id;
    const models = (await this.models.list(clientId)).filter((m) => targetId === null || m.target_id === targetId);
    return Promise.all(models.map((m) => this.detail(m)));
  }

  private detail(model: ModelRow): Promise<ModelDetail> {
    return readModelDetail(model, this.models, this.items);
  }

  /** The client's model of that id (a path segment); 404 otherwise. */
  private async find(clientId: string, modelId: string): Promise<ModelRow> {
    const model = /^\d+$/.test(modelId) ? await this.models.find(clientId, Number(modelId)) : undefined;
    if (!model) throw new ApiError(404, 'modelsNotFound');
    return model;
  }

  /** GET /models/{id} (beyond): one model with its evaluation. */
  async get(clientId: string, modelId: string): Promise<ModelDetail> {
    return this.detail(await this.find(clientId, modelId));
  }

  /**
   * PATCH /models/{id} (beyond): changes prediction-time parameters (those with model_parameter false:
   * threshold, min_detected_area, ignore_outer, …) without retraining; later predictions use them.
   */
  async updatePrediction(clientId: string, modelId: string, overrideParams: ParameterOverride[]): Promise<ModelDetail> {
    const model = await this.find(clientId, modelId);
    const changed = predictionParameters(requireAlgorithm(model.algorithm_id), model.prediction_overrides, overrideParams);
    await this.models.setPredictionOverrides(model.model_id, changed);
    return this.detail((await this.models.findById(model.model_id))!);
  }

  /** POST /models/{id}/export (beyond): the trained model's file, portable to another installation. */
  async exportFile(clientId: string, modelId: string): Promise<{ key: string; fileName: string }> {
    const model = await this.find(clientId, modelId);
    if (model.status !== 'active' || !model.blob_path) throw new ApiError(400, 'modelNotReady', message('modelStillTraining', { id: model.model_id }));
    return { key: model.blob_path, fileName: `${model.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.kensa-model` };
  }

  /**
   * POST /models/import (beyond): a model file from `export` becomes a trained model of this client
   * (checked in a worker: format, checksum, algorithm and its version) and, as the newest, the active one.
   */
  async importFile(clientId: string, temporaryPath: string, fileName: string, target?: string | null): Promise<ModelDetail> {
    const limits = await this.licenses.requireActive(clientId);
    const targetRow = await this.targets.resolve(clientId, target);
    await this.licenseUsage.requireRoomForModel(clientId, limits);
    let summary: ReadModelOutput;
    try {
      summary = await this.queue.runNow('read-model', { path: temporaryPath }) as ReadModelOutput;
    } catch (error) {
      throw new ApiError(400, 'invalidRequest', error instanceof Error ? error.message : String(error));
    }
    const model = await this.models.insert({
      client_id: clientId,
      target_id: targetRow.target_id,
      name: fileName.replace(/\.kensa-model$/, '') || `imported ${summary.algorithm}`,
      algorithm_id: summary.algorithm,
      algorithm_type: findAlgorithm(summary.algorithm)?.type ?? 'unsupervised',
      overrides: {},
      parameters: summary.params,
      item_pks: [],
      ok_img_count: summary.trainedOn.ok,
      ng_img_count: summary.trainedOn.ng,
    }, message('statusDone'));
    await this.files.adopt(temporaryPath, modelFileKey(model));
    await this.models.markTrained(model.model_id, {
      blobPath: modelFileKey(model), parameters: summary.params, evaluation: summary.evaluation,
      ok: summary.trainedOn.ok, ng: summary.trainedOn.ng,
    }, message('statusDone'));
    return this.detail((await this.models.findById(model.model_id))!);
  }

  /** DELETE /model: all named models or none; their jobs stop and their files go. */
  async delete(clientId: string, modelIds: (number | string)[]): Promise<void> {
    // An id that is no number names no model: a 404 like any unknown id.
    const ids = modelIds.map((id) => (typeof id === 'number' || /^\d+$/.test(id) ? Number(id) : NaN));
    const rows = await Promise.all(ids.map((id) => (Number.isSafeInteger(id) ? this.models.find(clientId, id) : undefined)));
    if (rows.length === 0 || rows.some((r) => r === undefined)) throw new ApiError(404, 'untitled', message('noModelFound'));
    const resultFiles = (await Promise.all(ids.map((id) => this.items.resultPathsOfModel(id)))).flat();
    for (const row of (await this.queue.pending()).filter((j) => j.client_id === clientId)) {
      const job = tryReadJob(row);
      if (!job || !ids.includes(job.payload.modelId)) continue;
      await this.queue.cancel(job.job_id);
      // An item waiting for this model's prediction is no longer waiting.
      if (job.name === 'predict') await this.items.setItemFailed(job.payload.itemPk, message('predictionFailedModelGone'));
    }
    await this.models.delete(clientId, ids);
    // A model still training has no blob_path yet; its file may exist if training ended just now.
    for (const row of rows) await this.files.remove(row!.blob_path ?? modelFileKey(row!));
    for (const path of resultFiles) await this.files.remove(path);
  }
}
