import { message } from '../http/errors.ts';
import type { MessageKey, MessageParams } from '../i18n/index.ts';
import type { QueuedJob } from '../jobs/payloads.ts';
import type { PredictInput, PredictOutput } from '../jobs/protocol.ts';
import type { JobHandler, JobRunScope } from '../jobs/queue.ts';
import { nowIso } from '../store/database.ts';
import { pathSegment, type FileStore } from '../store/files.ts';
import type { AssessmentRow, ItemsRepository } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';
import type { TempFiles } from '../store/temp-files.ts';
import type { AnnouncementsService } from './announcements.service.ts';
import { predictionGood } from './item-verdict.ts';

type PredictJobRun = QueuedJob<'predict'>;

/**
 * The main-thread side of the `predict` job (one item with one model): the images for the worker, then its
 * assessments and rendered pictures stored, and the finished prediction announced. A prediction that cannot finish
 * leaves the item done with its reason and no verdict.
 */
export class PredictJob implements JobHandler<'predict'> {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly files: FileStore,
    private readonly temp: TempFiles,
    private readonly announce: AnnouncementsService,
  ) {}

  /** Where the worker writes an image's overlay or heatmap before it is stored. */
  private renderedPath(job: PredictJobRun, imageId: number, kind: 'overlay' | 'heatmap'): string {
    return this.temp.named(`job-${job.job_id}-${imageId}.${kind}.png`);
  }

  private async fail(itemPk: number, reason: MessageKey, params?: MessageParams): Promise<void> {
    await this.items.setItemFailed(itemPk, message(reason, params));
    await this.announce.item(itemPk);
  }

  async prepare(job: PredictJobRun, run: JobRunScope): Promise<PredictInput | null> {
    const { modelId, itemPk } = job.payload;
    const model = await this.models.findById(modelId);
    const [item] = await this.items.itemsByPk([itemPk]);
    if (!item) return null;
    if (!model || !model.blob_path) {
      await this.fail(itemPk, 'predictionFailedModelGone');
      return null;
    }
    // Downloaded copies stay until the worker has read them (other jobs' downloads would evict them otherwise).
    const files = this.files.hold();
    run.onEnd(() => files.release());
    const images: PredictInput['images'] = [];
    for (const image of await this.items.imagesOfItem(itemPk)) {
      images.push({
        imageId: image.image_id,
        path: await files.localPath(image.raw_path),
        width: image.width,
        height: image.height,
        overlayPath: this.renderedPath(job, image.image_id, 'overlay'),
        heatmapPath: this.renderedPath(job, image.image_id, 'heatmap'),
      });
    }
    return { blobPath: await files.localPath(model.blob_path), overrides: model.prediction_overrides, images };
  }

  async onDone(job: PredictJobRun, { predictions }: PredictOutput): Promise<void> {
    const { modelId, itemPk } = job.payload;
    const rendered = predictions.flatMap((p) => [this.renderedPath(job, p.imageId, 'overlay'), this.renderedPath(job, p.imageId, 'heatmap')]);
    const [item] = await this.items.itemsByPk([itemPk]);
    if (!item || !await this.models.findById(modelId)) {
      // Deleted while it was being predicted: the results just rendered belong to nothing.
      await this.temp.remove(rendered);
      return;
    }
    const now = nowIso();
    const folder = `results/${pathSegment(item.client_id)}/${modelId}`;
    for (const p of predictions) {
      await this.files.adopt(this.renderedPath(job, p.imageId, 'overlay'), `${folder}/${p.imageId}.overlay.png`);
      await this.files.adopt(this.renderedPath(job, p.imageId, 'heatmap'), `${folder}/${p.imageId}.heatmap.png`);
    }
    const rows: AssessmentRow[] = predictions.map((p) => ({
      image_id: p.imageId, model_id: modelId, item_pk: itemPk, score: p.score, good: p.good ? 1 : 0, threshold: p.threshold,
      detected_objects: p.boxes.length, detection_accuracy: p.detectionAccuracy, boxes: p.boxes,
      overlay_path: `${folder}/${p.imageId}.overlay.png`, heatmap_path: `${folder}/${p.imageId}.heatmap.png`,
      created_at: now, finished_date: now,
    }));
    await this.items.transaction(async () => {
      for (const row of rows) await this.items.upsertAssessment(row);
      await this.items.setItemDone(itemPk);
    });
    await this.announce.item(itemPk);
    await this.announce.predictionFinished(item, {
      event: 'prediction.finished',
      item_id: item.item_id,
      target_id: item.target_id,
      model_id: modelId,
      finished_date: now,
      good: predictionGood(rows),
      score: predictions.reduce((max, p) => Math.max(max, p.score), 0),
      detected_objects: predictions.reduce((n, p) => n + p.boxes.length, 0),
      images: predictions.map((p) => ({
        image_id: p.imageId, good: p.good, score: p.score, detection_accuracy: p.detectionAccuracy, boxes: p.boxes,
      })),
    });
  }

  /** Done, since nothing more will happen, but without a verdict: the reason stays on the item. */
  async onFailed(job: PredictJobRun, error: Error): Promise<void> {
    await this.fail(job.payload.itemPk, 'predictionFailed', { reason: `${error.name}: ${error.message}` });
  }

  async onCancelled(job: PredictJobRun): Promise<void> {
    await this.temp.removeStartingWith(`job-${job.job_id}-`);
  }

  async onAbandoned(job: PredictJobRun): Promise<void> {
    await this.fail(job.payload.itemPk, 'predictionFailedAfterRestarts', { count: job.attempts });
  }
}
