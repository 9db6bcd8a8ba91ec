import type { StageValues, TrainingStage } from '@kensa/engine';
import { message } from '../http/errors.ts';
import type { Message } from '../i18n/index.ts';
import { statusOfStage } from '../i18n/training.ts';
import type { QueuedJob } from '../jobs/payloads.ts';
import { WorkerCrashError } from '../jobs/pool.ts';
import type { TrainInput, TrainOutput } from '../jobs/protocol.ts';
import type { JobHandler, JobRunScope } from '../jobs/queue.ts';
import type { FileStore } from '../store/files.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import { modelFileKey, type ModelsRepository } from '../store/models.repository.ts';
import type { TempFiles } from '../store/temp-files.ts';
import type { AnnouncementsService } from './announcements.service.ts';

/** A failure whose status text is already a catalogue message. */
class StatusError extends Error {
  readonly status: Message;
  constructor(status: Message) {
    super(status.key);
    this.status = status;
  }
}

type TrainJobRun = QueuedJob<'train'>;

/**
 * The main-thread side of the `train` job: gathers the model's images for the worker, keeps its status and progress
 * (the engine's stages, worded from the catalogues), and stores the trained file and its evaluation.
 */
export class TrainJob implements JobHandler<'train'> {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly files: FileStore,
    private readonly temp: TempFiles,
    private readonly announce: AnnouncementsService,
  ) {}

  /** Where the worker writes the model file before it is stored. */
  private writtenPath(job: TrainJobRun): string {
    return this.temp.named(`job-${job.job_id}.kensa-model`);
  }

  private async setStatus(modelId: number, progress: number, status: Message): Promise<void> {
    await this.models.setProgress(modelId, progress, status);
    await this.announce.model(modelId);
  }

  async prepare(job: TrainJobRun, run: JobRunScope): Promise<TrainInput | null> {
    const { modelId } = job.payload;
    const model = await this.models.findById(modelId);
    if (!model || model.status !== 'creating') return null;
    // The worker reads each image when training decodes it, maybe an hour from now: downloaded copies stay till then.
    const files = this.files.hold();
    run.onEnd(() => files.release());
    const images: TrainInput['images'] = [];
    for (const item of await this.items.itemsByPk(model.item_pks)) {
      for (const image of await this.items.imagesOfItem(item.pk)) {
        const boxes = (await this.items.annotationsOfImage(image.image_id))
          .map((a) => ({ x_min: a.x_min, x_max: a.x_max, y_min: a.y_min, y_max: a.y_max }));
        images.push({ path: await files.localPath(image.raw_path), good: item.good === null ? null : item.good === 1, boxes, imageId: image.image_id });
      }
    }
    // The request found images; they may have gone since (items deleted while the training waited).
    if (images.length === 0) throw new StatusError(message('statusNoTrainingImages'));
    await this.setStatus(modelId, 0, message('statusDecoding'));
    return { algorithmId: model.algorithm_id, images, overrides: model.overrides, blobPath: this.writtenPath(job) };
  }

  async onProgress(job: TrainJobRun, fraction: number, stage: TrainingStage = 'training', values?: StageValues): Promise<void> {
    await this.setStatus(job.payload.modelId, Math.min(0.99, fraction), statusOfStage(stage, values));
  }

  async onDone(job: TrainJobRun, result: TrainOutput): Promise<void> {
    const { modelId } = job.payload;
    const model = await this.models.findById(modelId);
    if (!model) {
      await this.temp.remove(this.writtenPath(job));
      return;
    }
    // The file first, then the row that points to it: a crash between them leaves a file nothing uses, never a row without its file.
    await this.files.adopt(this.writtenPath(job), modelFileKey(model));
    await this.models.markTrained(modelId, {
      blobPath: modelFileKey(model),
      parameters: result.params,
      evaluation: { ...result.evaluation, autoTuned: result.autoTuned, trainSeconds: result.trainSeconds },
      ok: model.ok_img_count,
      ng: model.ng_img_count,
    }, message('statusDone'));
    await this.announce.model(modelId);
  }

  async onFailed(job: TrainJobRun, error: Error): Promise<void> {
    await this.temp.remove(this.writtenPath(job));
    const status = error instanceof StatusError ? error.status
      : error instanceof WorkerCrashError ? message('statusWorkerCrashed', { reason: error.message })
        : message('statusFailed', { reason: error.message });
    await this.models.markFailed(job.payload.modelId, status);
    await this.announce.model(job.payload.modelId);
  }

  async onRequeued(job: TrainJobRun): Promise<void> {
    await this.setStatus(job.payload.modelId, 0, message('statusRequeuedAfterRestart'));
  }

  async onAbandoned(job: TrainJobRun): Promise<void> {
    await this.models.markFailed(job.payload.modelId, message('statusFailedAfterRestarts', { count: job.attempts }));
    await this.announce.model(job.payload.modelId);
  }

  /** The model was deleted while training: the model file (or the part written) goes. */
  async onCancelled(job: TrainJobRun): Promise<void> {
    await this.temp.removeStartingWith(`job-${job.job_id}.`);
  }
}
