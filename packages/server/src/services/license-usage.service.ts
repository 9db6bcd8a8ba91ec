import { ApiError, message } from '../http/errors.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';
import type { LicenseLimits } from './license.service.ts';

function monthStart(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What counts against a license's limits (models kept, images predicted this calendar month, UTC), and the checks before adding to it. */
export class LicenseUsageService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
  ) {}

  /** For GET /license: the counts the limits apply to. */
  async counts(clientId: string): Promise<{ models: number; predictions_this_month: number }> {
    return { models: await this.models.count(clientId), predictions_this_month: await this.items.countPredictedSince(clientId, monthStart()) };
  }

  /** Training or importing one more model: 403 when the license allows no more. */
  async requireRoomForModel(clientId: string, limits: LicenseLimits): Promise<void> {
    if (limits.max_models !== null && await this.models.count(clientId) >= limits.max_models) {
      throw new ApiError(403, 'licenseLimitReached', message('licenseMaxModels', { max: limits.max_models }));
    }
  }

  /** Predicting `images()` more images this month: 403 when the license allows fewer (counted only under a limit). */
  async requireRoomForPredictions(clientId: string, limits: LicenseLimits, images: () => Promise<number>): Promise<void> {
    if (limits.max_predictions_per_month === null) return;
    if (await this.items.countPredictedSince(clientId, monthStart()) + await images() > limits.max_predictions_per_month) {
      throw new ApiError(403, 'licenseLimitReached', message('licenseMaxPredictions', { max: limits.max_predictions_per_month }));
    }
  }
}
