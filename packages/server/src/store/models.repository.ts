import { nowIso, type Db } from './database.ts';
import type { Message } from '../i18n/index.ts';

export type ModelStatus = 'creating' | 'active' | 'failed';

export interface ModelRow {
  model_id: number;
  client_id: string;
  name: string;
  algorithm_id: string;
  algorithm_type: string;
  status: ModelStatus;
  /** The status text as a catalogue message (rendered per request language). */
  status_json: string | null;
  progress: number;
  active: number;
  version: string;
  overrides_json: string;
  parameters_json: string;
  item_pks_json: string;
  evaluation_json: string | null;
  blob_path: string | null;
  ok_img_count: number;
  ng_img_count: number;
  prediction_overrides_json: string;
  /** The inspection target the model belongs to; each target has its own active model. */
  target_id: number;
  created_at: string;
  updated_at: string;
}

export type NewModel = Pick<ModelRow, 'client_id' | 'target_id' | 'name' | 'algorithm_id' | 'algorithm_type' | 'overrides_json' | 'parameters_json' | 'item_pks_json' | 'ok_img_count' | 'ng_img_count'>;

export class ModelsRepository {
  constructor(private readonly db: Db) {}

  list(clientId: string): ModelRow[] {
    return this.db.prepare('SELECT * FROM models WHERE client_id = ? ORDER BY model_id').all(clientId) as ModelRow[];
  }

  find(clientId: string, modelId: number): ModelRow | undefined {
    return this.db.prepare('SELECT * FROM models WHERE client_id = ? AND model_id = ?').get(clientId, modelId) as ModelRow | undefined;
  }

  findById(modelId: number): ModelRow | undefined {
    return this.db.prepare('SELECT * FROM models WHERE model_id = ?').get(modelId) as ModelRow | undefined;
  }

  /** The active model of one target of the client. */
  activeModel(clientId: string, targetId: number): ModelRow | undefined {
    return this.db.prepare(`SELECT * FROM models WHERE client_id = ? AND target_id = ? AND active = 1 AND status = 'active'`)
      .get(clientId, targetId) as ModelRow | undefined;
  }

  count(clientId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM models WHERE client_id = ?').get(clientId) as { n: number }).n;
  }

  insert(model: NewModel, status: Message): ModelRow {
    const now = new Date();
    const stamp = now.toISOString();
    const version = `model-${stamp.slice(0, 4)}${stamp.slice(5, 7)}${stamp.slice(8, 10)}${stamp.slice(11, 19)}`;
    const info = this.db.prepare(`INSERT INTO models (client_id, target_id, name, algorithm_id, algorithm_type, status, status_json, progress, active,
      version, overrides_json, parameters_json, item_pks_json, ok_img_count, ng_img_count, created_at, updated_at)
      VALUES (@client_id, @target_id, @name, @algorithm_id, @algorithm_type, 'creating', @status_json, 0, 0, @version, @overrides_json,
      @parameters_json, @item_pks_json, @ok_img_count, @ng_img_count, @created_at, @created_at)`)
      .run({ ...model, status_json: JSON.stringify(status), version, created_at: nowIso() });
    return this.findById(Number(info.lastInsertRowid))!;
  }

  setProgress(modelId: number, progress: number, status: Message): void {
    this.db.prepare(`UPDATE models SET progress = ?, status_json = ?, updated_at = ? WHERE model_id = ? AND status = 'creating'`)
      .run(progress, JSON.stringify(status), nowIso(), modelId);
  }

  /**
   * A trained model becomes its target's active one unless a newer model (created later) is already
   * active: the newest good model wins, whatever order trainings finish in.
   */
  markTrained(modelId: number, fields: { blobPath: string; parametersJson: string; evaluationJson: string; ok: number; ng: number }, status: Message): void {
    this.db.transaction(() => {
      const model = this.findById(modelId);
      if (!model) return;
      const current = this.activeModel(model.client_id, model.target_id);
      const becomesActive = !current || current.model_id < modelId;
      if (becomesActive) this.db.prepare('UPDATE models SET active = 0 WHERE client_id = ? AND target_id = ?').run(model.client_id, model.target_id);
      this.db.prepare(`UPDATE models SET status = 'active', active = ?, progress = 1, status_json = ?, blob_path = ?, parameters_json = ?,
        evaluation_json = ?, ok_img_count = ?, ng_img_count = ?, updated_at = ? WHERE model_id = ?`)
        .run(becomesActive ? 1 : 0, JSON.stringify(status), fields.blobPath, fields.parametersJson, fields.evaluationJson, fields.ok, fields.ng, nowIso(), modelId);
    })();
  }

  setPredictionOverrides(modelId: number, overridesJson: string): void {
    this.db.prepare('UPDATE models SET prediction_overrides_json = ?, updated_at = ? WHERE model_id = ?').run(overridesJson, nowIso(), modelId);
  }

  markFailed(modelId: number, status: Message): void {
    this.db.prepare(`UPDATE models SET status = 'failed', active = 0, status_json = ?, updated_at = ? WHERE model_id = ?`)
      .run(JSON.stringify(status), nowIso(), modelId);
  }

  /** Deletes models; when a target's active one goes, its newest remaining trained model takes its place. */
  delete(clientId: string, modelIds: number[]): void {
    this.db.transaction(() => {
      const targets = new Set<number>();
      for (const id of modelIds) {
        const row = this.find(clientId, id);
        if (row) targets.add(row.target_id);
        this.db.prepare('DELETE FROM models WHERE client_id = ? AND model_id = ?').run(clientId, id);
      }
      for (const targetId of targets) {
        if (this.activeModel(clientId, targetId)) continue;
        this.db.prepare(`UPDATE models SET active = 1 WHERE model_id =
          (SELECT model_id FROM models WHERE client_id = ? AND target_id = ? AND status = 'active' ORDER BY model_id DESC LIMIT 1)`).run(clientId, targetId);
      }
    })();
  }
}
