import { nowIso, sql, type Database } from './database.ts';
import { pathSegment } from './files.ts';
import type { Message } from '../i18n/index.ts';
import type { TrainOutput } from '../jobs/protocol.ts';

export type ModelStatus = 'creating' | 'active' | 'failed';

/** What training (or an import) measured on held-out images; a trained model also keeps AutoTune's choices and its time. */
export type ModelEvaluation = TrainOutput['evaluation'] & { autoTuned?: TrainOutput['autoTuned']; trainSeconds?: number };

/** A model as the services see it: its JSON columns parsed. */
export interface ModelRow {
  model_id: number;
  client_id: string;
  name: string;
  algorithm_id: string;
  algorithm_type: string;
  status: ModelStatus;
  /** The status text as a catalogue message (rendered per request language). */
  status_message: Message | null;
  progress: number;
  active: number;
  version: string;
  /** Training parameters the request gave, by name. */
  overrides: Record<string, unknown>;
  /** Every parameter's value, by name: resolved at the request, then as training chose them. */
  parameters: Record<string, unknown>;
  /** The items the model learns from. */
  item_pks: number[];
  evaluation: ModelEvaluation | null;
  blob_path: string | null;
  ok_img_count: number;
  ng_img_count: number;
  /** Prediction-time parameters changed since training (PATCH /models/{id}), by name. */
  prediction_overrides: Record<string, unknown>;
  /** The inspection target the model belongs to; each target has its own active model. */
  target_id: number;
  created_at: string;
  updated_at: string;
}

/** The row as the database holds it. */
interface StoredModel extends Omit<ModelRow, 'status_message' | 'overrides' | 'parameters' | 'item_pks' | 'evaluation' | 'prediction_overrides'> {
  status_json: string | null;
  overrides_json: string;
  parameters_json: string;
  item_pks_json: string;
  evaluation_json: string | null;
  prediction_overrides_json: string;
}

function modelOf({ status_json, overrides_json, parameters_json, item_pks_json, evaluation_json, prediction_overrides_json, ...row }: StoredModel): ModelRow {
  return {
    ...row,
    status_message: status_json === null ? null : JSON.parse(status_json) as Message,
    overrides: JSON.parse(overrides_json) as Record<string, unknown>,
    parameters: JSON.parse(parameters_json) as Record<string, unknown>,
    item_pks: JSON.parse(item_pks_json) as number[],
    evaluation: evaluation_json === null ? null : JSON.parse(evaluation_json) as ModelEvaluation,
    prediction_overrides: JSON.parse(prediction_overrides_json) as Record<string, unknown>,
  };
}

const modelOrNone = (row: StoredModel | undefined) => (row === undefined ? undefined : modelOf(row));

export type NewModel = Pick<ModelRow, 'client_id' | 'target_id' | 'name' | 'algorithm_id' | 'algorithm_type' | 'overrides' | 'parameters' | 'item_pks' | 'ok_img_count' | 'ng_img_count'>;

/** Where a trained model's file is stored: known from its ids alone, so a training's file is found before its row points to it. */
export function modelFileKey(model: Pick<ModelRow, 'client_id' | 'model_id'>): string {
  return `models/${pathSegment(model.client_id)}/${model.model_id}.kensa-model`;
}

export class ModelsRepository {
  constructor(private readonly db: Database) {}

  async list(clientId: string): Promise<ModelRow[]> {
    return (await this.db.all<StoredModel>(sql`SELECT * FROM models WHERE client_id = ${clientId} ORDER BY model_id`)).map(modelOf);
  }

  async find(clientId: string, modelId: number): Promise<ModelRow | undefined> {
    return modelOrNone(await this.db.get<StoredModel>(sql`SELECT * FROM models WHERE client_id = ${clientId} AND model_id = ${modelId}`));
  }

  async findById(modelId: number): Promise<ModelRow | undefined> {
    return modelOrNone(await this.db.get<StoredModel>(sql`SELECT * FROM models WHERE model_id = ${modelId}`));
  }

  /** The active model of one target of the client. */
  async activeModel(clientId: string, targetId: number): Promise<ModelRow | undefined> {
    return modelOrNone(await this.db.get<StoredModel>(sql`SELECT * FROM models WHERE client_id = ${clientId} AND target_id = ${targetId} AND active = 1
      AND status = 'active'`));
  }

  /** The newest model of a target that has not failed: the one it serves once every training has finished (see markTrained). */
  async newestNotFailed(clientId: string, targetId: number): Promise<number | null> {
    const row = await this.db.get<{ model_id: number | null }>(sql`SELECT MAX(model_id) AS model_id FROM models WHERE client_id = ${clientId}
      AND target_id = ${targetId} AND status <> 'failed'`);
    return row?.model_id ?? null;
  }

  async count(clientId: string): Promise<number> {
    return (await this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM models WHERE client_id = ${clientId}`))!.n;
  }

  async insert(model: NewModel, status: Message): Promise<ModelRow> {
    const stamp = new Date().toISOString();
    const version = `model-${stamp.slice(0, 4)}${stamp.slice(5, 7)}${stamp.slice(8, 10)}${stamp.slice(11, 19)}`;
    const now = nowIso();
    return modelOf((await this.db.get<StoredModel>(sql`INSERT INTO models (client_id, target_id, name, algorithm_id, algorithm_type, status, status_json,
      progress, active, version, overrides_json, parameters_json, item_pks_json, ok_img_count, ng_img_count, created_at, updated_at)
      VALUES (${model.client_id}, ${model.target_id}, ${model.name}, ${model.algorithm_id}, ${model.algorithm_type}, 'creating',
      ${JSON.stringify(status)}, 0, 0, ${version}, ${JSON.stringify(model.overrides)}, ${JSON.stringify(model.parameters)},
      ${JSON.stringify(model.item_pks)}, ${model.ok_img_count}, ${model.ng_img_count}, ${now}, ${now}) RETURNING *`))!);
  }

  async setProgress(modelId: number, progress: number, status: Message): Promise<void> {
    await this.db.run(sql`UPDATE models SET progress = ${progress}, status_json = ${JSON.stringify(status)}, updated_at = ${nowIso()}
      WHERE model_id = ${modelId} AND status = 'creating'`);
  }

  /**
   * A trained model becomes its target's active one unless a newer model (created later) is already
   * active: the newest good model wins, whatever order trainings finish in.
   */
  async markTrained(modelId: number, fields: { blobPath: string; parameters: Record<string, unknown>; evaluation: ModelEvaluation; ok: number; ng: number }, status: Message): Promise<void> {
    await this.db.transaction(async () => {
      const model = await this.findById(modelId);
      if (!model) return;
      const current = await this.activeModel(model.client_id, model.target_id);
      const becomesActive = !current || current.model_id < modelId;
      if (becomesActive) await this.db.run(sql`UPDATE models SET active = 0 WHERE client_id = ${model.client_id} AND target_id = ${model.target_id}`);
      await this.db.run(sql`UPDATE models SET status = 'active', active = ${becomesActive ? 1 : 0}, progress = 1, status_json = ${JSON.stringify(status)},
        blob_path = ${fields.blobPath}, parameters_json = ${JSON.stringify(fields.parameters)}, evaluation_json = ${JSON.stringify(fields.evaluation)},
        ok_img_count = ${fields.ok}, ng_img_count = ${fields.ng}, updated_at = ${nowIso()} WHERE model_id = ${modelId}`);
    });
  }

  async setPredictionOverrides(modelId: number, overrides: Record<string, unknown>): Promise<void> {
    await this.db.run(sql`UPDATE models SET prediction_overrides_json = ${JSON.stringify(overrides)}, updated_at = ${nowIso()} WHERE model_id = ${modelId}`);
  }

  async markFailed(modelId: number, status: Message): Promise<void> {
    await this.db.run(sql`UPDATE models SET status = 'failed', active = 0, status_json = ${JSON.stringify(status)}, updated_at = ${nowIso()}
      WHERE model_id = ${modelId}`);
  }

  /** Deletes models; when a target's active one goes, its newest remaining trained model takes its place. */
  async delete(clientId: string, modelIds: number[]): Promise<void> {
    await this.db.transaction(async () => {
      const targets = new Set<number>();
      for (const id of modelIds) {
        const row = await this.find(clientId, id);
        if (row) targets.add(row.target_id);
        await this.db.run(sql`DELETE FROM models WHERE client_id = ${clientId} AND model_id = ${id}`);
      }
      for (const targetId of targets) {
        if (await this.activeModel(clientId, targetId)) continue;
        await this.db.run(sql`UPDATE models SET active = 1 WHERE model_id = (SELECT model_id FROM models WHERE client_id = ${clientId}
          AND target_id = ${targetId} AND status = 'active' ORDER BY model_id DESC LIMIT 1)`);
      }
    });
  }
}
