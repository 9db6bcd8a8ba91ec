import { ApiError } from '../http/errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import type { ModelRow, ModelsRepository } from '../store/models.repository.ts';
import type { AnnouncementsService } from './announcements.service.ts';
import type { LicenseUsageService } from './license-usage.service.ts';
import type { LicenseService } from './license.service.ts';
import type { TargetsService } from './targets.service.ts';

export interface ServeRequest {
  item_ids: string[];
  model_id?: number | string | null;
  /** Whose active model serves when no model is named; absent: the target of the items. */
  target?: string | number | null;
}

/** POST /serve: which model predicts, within the license, and the prediction of each item queued (prediction.job.ts runs them). */
export class PredictionService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly licenses: LicenseService,
    private readonly licenseUsage: LicenseUsageService,
    private readonly targets: TargetsService,
    private readonly announce: AnnouncementsService,
    private readonly queue: JobQueue,
  ) {}

  /** The model a prediction uses: the one named, else the target's active one; 400 when there is none. */
  async servingModel(clientId: string, modelId: number | string | null | undefined, targetId: number): Promise<ModelRow> {
    const model = modelId !== undefined && modelId !== null && modelId !== ''
      ? await this.models.find(clientId, Number(modelId))
      : await this.models.activeModel(clientId, targetId);
    if (!model || model.status !== 'active' || !model.blob_path) throw new ApiError(400, 'noAvailableModel');
    return model;
  }

  /** Queues a prediction of each item with the chosen (or the active) model. */
  async serve(clientId: string, request: ServeRequest) {
    const limits = await this.licenses.requireActive(clientId);
    const unique = [...new Set(request.item_ids.map(String))];
    const items = await this.items.findItems(clientId, unique);
    if (unique.length === 0 || items.length !== unique.length) throw new ApiError(404, 'itemsNotFound');
    const targetId = request.target !== undefined && request.target !== null && request.target !== ''
      ? (await this.targets.resolve(clientId, request.target)).target_id
      : items[0].target_id;
    const model = await this.servingModel(clientId, request.model_id, targetId);
    await this.licenseUsage.requireRoomForPredictions(clientId, limits, async () => {
      const counts = await this.items.imageCountsOf(items.map((item) => item.pk));
      return items.reduce((n, item) => n + (counts.get(item.pk)?.images ?? 0), 0);
    });
    // All or nothing: the items turn pending and their jobs are queued in one transaction.
    await this.queue.enqueueMany(items.map((item) => ({ name: 'predict' as const, clientId, payload: { modelId: model.model_id, itemPk: item.pk } })), async () => {
      await this.items.setItemsPending(items.map((i) => i.pk));
    });
    for (const item of items) await this.announce.item(item.pk);
    return { item_ids: unique, model_version: model.version };
  }
}
