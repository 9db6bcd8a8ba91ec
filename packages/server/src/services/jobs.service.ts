import { tryReadJob } from '../jobs/payloads.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { ItemsRepository } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';

/** GET /workers: what runs or waits for a client, named as the original named it (models by name, items by id). */
export class JobsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly queue: JobQueue,
  ) {}

  async workers(clientId: string) {
    const training: string[] = [];
    const predicting: string[] = [];
    for (const row of (await this.queue.pending()).filter((j) => j.client_id === clientId)) {
      const job = tryReadJob(row);
      if (job?.name === 'train') {
        const model = await this.models.findById(job.payload.modelId);
        if (model) training.push(model.name);
      } else if (job?.name === 'predict') {
        const [item] = await this.items.itemsByPk([job.payload.itemPk]);
        if (item && !predicting.includes(item.item_id)) predicting.push(item.item_id);
      }
    }
    return { training, predicting };
  }
}
