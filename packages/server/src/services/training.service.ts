import { checkTrainingData, DEFAULT_ALGORITHM_ID, type TrainingDataCounts } from '@kensa/engine';
import { ApiError, message } from '../http/errors.ts';
import { detailOfProblem } from '../i18n/training.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { ItemRow, ItemsRepository } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';
import { requireAlgorithm, trainingParameters, type ParameterOverride } from './algorithm-catalogue.ts';
import type { AnnouncementsService } from './announcements.service.ts';
import type { LicenseUsageService } from './license-usage.service.ts';
import type { LicenseService } from './license.service.ts';
import { readModelDetail, type ModelDetail } from './models.service.ts';
import type { TargetsService } from './targets.service.ts';

export interface TrainRequest {
  /** Absent: the engine's default algorithm. */
  algorithm_id?: string;
  name: string;
  /** Null (the original's SDK sends it for "no overrides") is the same as none. */
  override_params?: ParameterOverride[] | null;
  item_ids?: string[];
  /** Target id or name (beyond the original); absent: the default target. */
  target?: string | number | null;
}

/**
 * POST /train: everything a training needs is checked here, before anything is stored: the license and its model
 * limit, the target, the algorithm and parameters, the items, and whether their images can train the algorithm.
 * Then the model is stored as "creating" and its training queued (training.job.ts runs it).
 */
export class TrainingService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly licenses: LicenseService,
    private readonly licenseUsage: LicenseUsageService,
    private readonly targets: TargetsService,
    private readonly announce: AnnouncementsService,
    private readonly queue: JobQueue,
  ) {}

  async train(clientId: string, request: TrainRequest): Promise<ModelDetail> {
    await this.licenseUsage.requireRoomForModel(clientId, await this.licenses.requireActive(clientId));
    const target = await this.targets.resolve(clientId, request.target);
    const algorithm = requireAlgorithm(request.algorithm_id ?? DEFAULT_ALGORITHM_ID);
    const { overrides, resolved } = trainingParameters(algorithm, request.override_params ?? []);
    const trainingItems = await this.itemsToTrainOn(clientId, target.target_id, request.item_ids);
    const counts = await this.countImages(trainingItems);
    const problems = checkTrainingData(algorithm, counts);
    if (problems.length > 0) throw new ApiError(400, 'trainingDataInsufficient', problems.map((p) => detailOfProblem(algorithm.id, p)));
    const model = await this.models.insert({
      client_id: clientId,
      target_id: target.target_id,
      name: request.name,
      algorithm_id: algorithm.id,
      algorithm_type: algorithm.type,
      overrides,
      parameters: resolved,
      item_pks: trainingItems.map((i) => i.pk),
      ok_img_count: counts.ok,
      ng_img_count: counts.ng,
    }, message('statusQueued'));
    await this.queue.enqueue({ name: 'train', clientId, payload: { modelId: model.model_id } });
    await this.announce.model(model.model_id);
    return readModelDetail(model, this.models, this.items);
  }

  /** The items named (all of them the client's, of the model's target: 403 otherwise), else the target's training items. */
  private async itemsToTrainOn(clientId: string, targetId: number, itemIds: string[] | null | undefined): Promise<ItemRow[]> {
    if (itemIds === undefined || itemIds === null) return this.items.trainingItems(clientId, targetId);
    const unique = [...new Set(itemIds.map(String))];
    const found = await this.items.findItems(clientId, unique);
    // A model learns from its own target's items only.
    if (found.length !== unique.length || found.some((i) => i.target_id !== targetId)) throw new ApiError(403, 'itemAccessDenied');
    return found;
  }

  /** The images of these items by label, as the engine counts what it needs. */
  private async countImages(items: ItemRow[]): Promise<TrainingDataCounts> {
    const countsOf = await this.items.imageCountsOf(items.map((i) => i.pk));
    const counts: TrainingDataCounts = { ok: 0, ng: 0, ngWithBoxes: 0, unlabelled: 0 };
    for (const item of items) {
      const { images, annotated } = countsOf.get(item.pk) ?? { images: 0, annotated: 0 };
      if (item.good === 1) counts.ok += images;
      else if (item.good === 0) {
        counts.ng += images;
        counts.ngWithBoxes += annotated;
      } else counts.unlabelled += images;
    }
    return counts;
  }
}
