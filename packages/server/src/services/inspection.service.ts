import { ImageDecodeError, type ImageErrorCode } from '@kensa/engine';
import { ApiError, message } from '../http/errors.ts';
import type { InspectInput, InspectOutput } from '../jobs/protocol.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { FileStore } from '../store/files.ts';
import type { InspectHeatmapStore } from './inspect-heatmaps.ts';
import { reasonOf, type ItemsService, type UploadedFile } from './items.service.ts';
import type { LicenseService } from './license.service.ts';
import type { PredictionService } from './prediction.service.ts';
import type { TargetsService } from './targets.service.ts';

export interface InspectRequest {
  /** Absent: the target's active model. */
  modelId: string | null;
  /** Target id or name; absent: the default target. */
  target: string | null;
  /** Also keep the files as predict items, predicted in the background with the same model. */
  store: boolean;
  /** Render heatmaps (they cost time on the line; `store` renders them too). */
  heatmaps: boolean;
}

/**
 * POST /inspect (beyond): verdicts of checked files in the answer, computed in a worker, nothing stored unless
 * asked. Heatmaps, when rendered, wait a short while in `heatmaps` for the URLs the answer carries.
 */
export class InspectionService {
  constructor(
    private readonly items: ItemsService,
    private readonly prediction: PredictionService,
    private readonly licenses: LicenseService,
    private readonly targets: TargetsService,
    private readonly files: FileStore,
    private readonly queue: JobQueue,
    private readonly heatmaps: InspectHeatmapStore,
  ) {}

  /** `heatmapUrls` gives the URL of a kept heatmap; asked for only when heatmaps are rendered. */
  async inspect(clientId: string, files: UploadedFile[], request: InspectRequest, heatmapUrls: () => Promise<(heatmapId: string) => string>) {
    const checked = await this.items.checkFiles(files, null, { thumbnails: false });
    const target = await this.targets.resolve(clientId, request.target);
    const heatmapUrl = request.store || request.heatmaps ? await heatmapUrls() : null;
    await this.licenses.requireActive(clientId);
    const model = await this.prediction.servingModel(clientId, request.modelId, target.target_id);
    const input: InspectInput = {
      blobPath: await this.files.localPath(model.blob_path!),
      overrides: model.prediction_overrides,
      files: checked.map((c) => ({ path: c.file.temporaryPath, fileName: c.file.fileName, width: c.info.width, height: c.info.height })),
      renderHeatmaps: heatmapUrl !== null,
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
        heatmap_url: r.heatmapPng && heatmapUrl ? heatmapUrl(await this.heatmaps.put(clientId, r.heatmapPng)) : null,
      });
    }
    if (request.store) {
      const itemIds = await this.items.upload(clientId, files, { training: false, good: null, itemId: null, targetId: target.target_id });
      await this.prediction.serve(clientId, { item_ids: itemIds, model_id: model.model_id, target: target.target_id });
    }
    return { results, model_id: model.model_id, model_version: model.version };
  }

  /** A kept heatmap of the client's, or null once it is gone. */
  async heatmap(clientId: string, heatmapId: string): Promise<Uint8Array | null> {
    return this.heatmaps.get(clientId, heatmapId);
  }
}
