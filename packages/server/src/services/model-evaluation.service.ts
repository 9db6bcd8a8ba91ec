import { ApiError } from '../http/errors.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import type { ModelEvaluation, ModelsRepository } from '../store/models.repository.ts';

/** A model's held-out images: its evaluation as training kept it, and the item of each image that is still there. */
export interface HeldOutEvaluation {
  modelId: number;
  evaluation: ModelEvaluation | null;
  /** The item id of each held-out image of this client (images deleted since are not in it). */
  itemOfImage: Map<number, string>;
}

/** A model's evaluation on its held-out images (GET /models/{id}/evaluation). */
export class ModelEvaluationService {
  constructor(private readonly models: ModelsRepository, private readonly items: ItemsRepository) {}

  async heldOut(clientId: string, modelId: number): Promise<HeldOutEvaluation> {
    const model = await this.models.find(clientId, modelId);
    if (!model) throw new ApiError(404, 'modelsNotFound');
    const { evaluation } = model;
    const imageIds = (evaluation?.heldOut ?? []).map((h) => h.imageId).filter((id): id is number => id !== null);
    return { modelId: model.model_id, evaluation, itemOfImage: await this.items.itemIdsOfImages(clientId, imageIds) };
  }
}
