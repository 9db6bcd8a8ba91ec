import type { Box } from '@kensa/engine';
import type { ItemRow, ItemsRepository } from '../store/items.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';
import type { CallbacksService } from './callbacks.service.ts';
import type { EventsService } from './events.service.ts';
import type { MqttService } from './mqtt.service.ts';
import type { TargetsService } from './targets.service.ts';

/** What callbacks receive and MQTT publishes when a prediction finishes (its shape is the contract's). */
export interface PredictionFinished {
  event: 'prediction.finished';
  item_id: string;
  target_id: number;
  model_id: number;
  finished_date: string;
  good: boolean;
  score: number;
  detected_objects: number;
  images: { image_id: number; good: boolean; score: number; detection_accuracy: number; boxes: (Box & { score: number })[] }[];
}

/**
 * Tells whoever listens that a model or an item moved on: the client's event streams (through the events service,
 * across processes), and for a finished prediction also its callbacks and its target's MQTT broker.
 */
export class AnnouncementsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly items: ItemsRepository,
    private readonly events: EventsService,
    private readonly callbacks: CallbacksService,
    private readonly targets: TargetsService,
    private readonly mqtt: MqttService,
  ) {}

  /** Where a model stands now. */
  async model(modelId: number): Promise<void> {
    const model = await this.models.findById(modelId);
    if (!model) return;
    this.events.publish({
      type: 'model', clientId: model.client_id, model_id: model.model_id, status: model.status, progress: model.progress,
      status_text: model.status_message,
    });
  }

  /** Whether an item waits for a prediction or has one. */
  async item(itemPk: number): Promise<void> {
    const [item] = await this.items.itemsByPk([itemPk]);
    if (item) this.events.publish({ type: 'item', clientId: item.client_id, item_id: item.item_id, status: item.status });
  }

  /** A finished prediction: to the callbacks' outbox, and published on MQTT (which never fails a prediction). */
  async predictionFinished(item: ItemRow, finished: PredictionFinished): Promise<void> {
    await this.callbacks.notify(item.client_id, finished.model_id, finished);
    const target = await this.targets.byId(item.target_id);
    if (target) this.mqtt.publishPrediction(target, { ...finished });
  }
}
