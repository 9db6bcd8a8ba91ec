import { nowIso, type Db } from './database.ts';

export interface ItemRow {
  pk: number;
  client_id: string;
  item_id: string;
  label: string | null;
  description: string | null;
  is_training: number;
  good: number | null;
  status: 'pending' | 'done';
  archived: number;
  target_id: number;
  /** Why the last prediction of this item failed, a catalogue message as JSON (null when it did not). */
  prediction_error: string | null;
  override_good: number | null;
  confirmed: number;
  created_at: string;
  finished_date: string | null;
}

export interface ImageRow {
  image_id: number;
  item_pk: number;
  client_id: string;
  file_name: string;
  content_type: string;
  file_size: number;
  width: number;
  height: number;
  sha256: string;
  raw_path: string;
  thumbnail_path: string;
  exif_json: string;
  created_at: string;
}

export interface AnnotationRow {
  annotation_id: number;
  image_id: number;
  x_min: number;
  x_max: number;
  y_min: number;
  y_max: number;
  notes: string | null;
  created_at: string;
}

export interface AssessmentRow {
  image_id: number;
  model_id: number;
  item_pk: number;
  score: number;
  good: number;
  threshold: number;
  detected_objects: number;
  detection_accuracy: number;
  boxes_json: string;
  overlay_path: string;
  heatmap_path: string;
  created_at: string;
  finished_date: string;
}

export type NewImage = Omit<ImageRow, 'image_id' | 'item_pk' | 'created_at'>;

/** Items, their images, annotations and assessments; every read is scoped by client id. */
export type SummaryCounts = {
  training: { ok: number; ng: number; unlabelled: number };
  predictions: { model_id: number; ok: number; ng: number; done: number; confirmed: number; adjusted: number }[];
};

export class ItemsRepository {
  constructor(private readonly db: Db) {}

  findItem(clientId: string, itemId: string): ItemRow | undefined {
    return this.db.prepare('SELECT * FROM items WHERE client_id = ? AND item_id = ?').get(clientId, itemId) as ItemRow | undefined;
  }

  /** Whether some other client has an item of this id (to answer 401 rather than 404, as the original). */
  existsForAnotherClient(clientId: string, itemId: string): boolean {
    return this.db.prepare('SELECT 1 FROM items WHERE client_id <> ? AND item_id = ? LIMIT 1').get(clientId, itemId) !== undefined;
  }

  /** The client's items among these ids (one query, however many ids). */
  findItems(clientId: string, itemIds: string[]): ItemRow[] {
    return this.db.prepare(`SELECT * FROM items WHERE client_id = ? AND item_id IN (SELECT value FROM json_each(?)) ORDER BY pk`)
      .all(clientId, JSON.stringify(itemIds)) as ItemRow[];
  }

  itemsByPk(pks: number[]): ItemRow[] {
    const select = this.db.prepare('SELECT * FROM items WHERE pk = ?');
    return pks.map((pk) => select.get(pk) as ItemRow | undefined).filter((row): row is ItemRow => row !== undefined);
  }

  listItems(clientId: string): ItemRow[] {
    return this.db.prepare('SELECT * FROM items WHERE client_id = ? ORDER BY pk').all(clientId) as ItemRow[];
  }

  /**
   * One page of a target's items in upload order, after the cursor (a pk), optionally of one status;
   * read through the (client, target, [status,] pk) indexes so a page costs the same at any size.
   */
  pageOfItems(clientId: string, targetId: number, query: { status?: 'pending' | 'done'; after: number; limit: number | null }): ItemRow[] {
    const limit = query.limit ?? -1;
    if (query.status) {
      return this.db.prepare('SELECT * FROM items WHERE client_id = ? AND target_id = ? AND status = ? AND pk > ? ORDER BY pk LIMIT ?')
        .all(clientId, targetId, query.status, query.after, limit) as ItemRow[];
    }
    return this.db.prepare('SELECT * FROM items WHERE client_id = ? AND target_id = ? AND pk > ? ORDER BY pk LIMIT ?')
      .all(clientId, targetId, query.after, limit) as ItemRow[];
  }

  /** The summary's counts of a target, read from indexes and the trigger-kept summary_counts (see database.ts). */
  summaryCounts(clientId: string, targetId: number): SummaryCounts {
    return { training: this.trainingCounts(clientId, targetId), predictions: this.predictionCounts(targetId) };
  }

  /** Training labels of a target's items that are not archived, counted in SQL. */
  trainingCounts(clientId: string, targetId: number): { ok: number; ng: number; unlabelled: number } {
    const rows = this.db.prepare(`SELECT good, COUNT(*) AS n FROM items WHERE client_id = ? AND target_id = ? AND is_training = 1 AND archived = 0
      GROUP BY good`).all(clientId, targetId) as { good: number | null; n: number }[];
    const count = (good: number | null) => rows.find((r) => r.good === good)?.n ?? 0;
    return { ok: count(1), ng: count(0), unlabelled: count(null) };
  }

  /**
   * Per model, the verdicts on a target's predict items that are not archived (an item is OK when all its
   * images are): how many OK/NG, confirmed, and confirmed but overridden. Kept up to date by triggers.
   */
  predictionCounts(targetId: number): { model_id: number; ok: number; ng: number; done: number; confirmed: number; adjusted: number }[] {
    return this.db.prepare(`SELECT model_id, ok, ng, ok + ng AS done, confirmed, adjusted FROM summary_counts
      WHERE target_id = ? AND ok + ng > 0 ORDER BY model_id`).all(targetId) as { model_id: number; ok: number; ng: number; done: number; confirmed: number; adjusted: number }[];
  }

  trainingItems(clientId: string, targetId: number): ItemRow[] {
    return this.db.prepare('SELECT * FROM items WHERE client_id = ? AND target_id = ? AND is_training = 1 AND archived = 0 ORDER BY pk')
      .all(clientId, targetId) as ItemRow[];
  }

  insertItem(clientId: string, targetId: number, itemId: string, isTraining: boolean, good: boolean | null): ItemRow {
    const info = this.db.prepare(`INSERT INTO items (client_id, target_id, item_id, label, is_training, good, status, created_at)
      VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`).run(clientId, targetId, itemId, itemId, isTraining ? 1 : 0, good === null ? null : good ? 1 : 0, nowIso());
    return this.db.prepare('SELECT * FROM items WHERE pk = ?').get(info.lastInsertRowid) as ItemRow;
  }

  updateItemLabel(pk: number, isTraining: boolean, good: boolean | null): void {
    this.db.prepare('UPDATE items SET is_training = ?, good = ? WHERE pk = ?').run(isTraining ? 1 : 0, good === null ? null : good ? 1 : 0, pk);
  }

  /** A person's review: confirmed, with the verdict overridden (override_good) or not (null). */
  setReview(pk: number, overrideGood: boolean | null): void {
    this.db.prepare('UPDATE items SET confirmed = 1, override_good = ? WHERE pk = ?').run(overrideGood === null ? null : overrideGood ? 1 : 0, pk);
  }

  setArchived(pk: number, archived: boolean): void {
    this.db.prepare('UPDATE items SET archived = ? WHERE pk = ?').run(archived ? 1 : 0, pk);
  }

  /** Deletes an item; its images, annotations and assessments go with it (foreign keys cascade). */
  deleteItem(pk: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM assessments WHERE item_pk = ?').run(pk);
      this.db.prepare('DELETE FROM items WHERE pk = ?').run(pk);
    })();
  }

  setItemsPending(pks: number[]): void {
    const update = this.db.prepare(`UPDATE items SET status = 'pending', finished_date = NULL, prediction_error = NULL WHERE pk = ?`);
    for (const pk of pks) update.run(pk);
  }

  setItemDone(pk: number): void {
    this.db.prepare(`UPDATE items SET status = 'done', finished_date = ?, prediction_error = NULL WHERE pk = ?`).run(nowIso(), pk);
  }

  /** The prediction ended without a result: done (nothing more will happen), with the reason kept on the item. */
  setItemFailed(pk: number, reasonJson: string): void {
    this.db.prepare(`UPDATE items SET status = 'done', finished_date = ?, prediction_error = ? WHERE pk = ?`).run(nowIso(), reasonJson, pk);
  }

  imagesOfItem(itemPk: number): ImageRow[] {
    return this.db.prepare('SELECT * FROM images WHERE item_pk = ? ORDER BY image_id').all(itemPk) as ImageRow[];
  }

  /** The id of the first image of each of these items (read from the index alone). */
  firstImageIdsOf(clientId: string, pks: number[]): Map<number, number> {
    const rows = this.db.prepare(`SELECT item_pk, MIN(image_id) AS image_id FROM images WHERE client_id = ?
      AND item_pk IN (SELECT value FROM json_each(?)) GROUP BY item_pk`).raw().all(clientId, JSON.stringify(pks)) as [number, number][];
    return new Map(rows);
  }

  /** Assessments of these items, grouped by item. */
  assessmentsOfItems(pks: number[]): Map<number, AssessmentRow[]> {
    const rows = this.db.prepare(`SELECT * FROM assessments WHERE item_pk IN (SELECT value FROM json_each(?)) ORDER BY model_id, image_id`)
      .all(JSON.stringify(pks)) as AssessmentRow[];
    return groupByItem(rows);
  }

  /** The id of the first image of every item of a client, for lists (read from the index alone). */
  firstImageIds(clientId: string): Map<number, number> {
    const rows = this.db.prepare(`SELECT item_pk, MIN(image_id) AS image_id FROM images WHERE client_id = ? GROUP BY item_pk`)
      .raw().all(clientId) as [number, number][];
    return new Map(rows);
  }

  findImage(clientId: string, imageId: number): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE client_id = ? AND image_id = ?').get(clientId, imageId) as ImageRow | undefined;
  }

  insertImage(itemPk: number, image: NewImage): ImageRow {
    const info = this.db.prepare(`INSERT INTO images (item_pk, client_id, file_name, content_type, file_size, width, height, sha256,
      raw_path, thumbnail_path, exif_json, created_at) VALUES (@item_pk, @client_id, @file_name, @content_type, @file_size, @width,
      @height, @sha256, @raw_path, @thumbnail_path, @exif_json, @created_at)`).run({ ...image, item_pk: itemPk, created_at: nowIso() });
    return this.db.prepare('SELECT * FROM images WHERE image_id = ?').get(info.lastInsertRowid) as ImageRow;
  }

  annotationsOfImage(imageId: number): AnnotationRow[] {
    return this.db.prepare('SELECT * FROM annotations WHERE image_id = ? ORDER BY annotation_id').all(imageId) as AnnotationRow[];
  }

  replaceAnnotations(imageId: number, boxes: Omit<AnnotationRow, 'annotation_id' | 'image_id' | 'created_at'>[]): void {
    const insert = this.db.prepare(`INSERT INTO annotations (image_id, x_min, x_max, y_min, y_max, notes, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const now = nowIso();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM annotations WHERE image_id = ?').run(imageId);
      for (const b of boxes) insert.run(imageId, b.x_min, b.x_max, b.y_min, b.y_max, b.notes, now);
    })();
  }

  assessmentsOfItem(itemPk: number): AssessmentRow[] {
    return this.db.prepare('SELECT * FROM assessments WHERE item_pk = ? ORDER BY model_id, image_id').all(itemPk) as AssessmentRow[];
  }

  /** All assessments of a client's items, grouped by item, for lists and the summary. */
  assessmentsByItem(clientId: string): Map<number, AssessmentRow[]> {
    const rows = this.db.prepare(`SELECT a.* FROM assessments a JOIN items i ON i.pk = a.item_pk WHERE i.client_id = ?
      ORDER BY a.model_id, a.image_id`).all(clientId) as AssessmentRow[];
    return groupByItem(rows);
  }

  findAssessment(imageId: number, modelId: number): AssessmentRow | undefined {
    return this.db.prepare('SELECT * FROM assessments WHERE image_id = ? AND model_id = ?').get(imageId, modelId) as AssessmentRow | undefined;
  }

  newestAssessmentOfImage(imageId: number): AssessmentRow | undefined {
    return this.db.prepare('SELECT * FROM assessments WHERE image_id = ? ORDER BY finished_date DESC, model_id DESC LIMIT 1').get(imageId) as AssessmentRow | undefined;
  }

  upsertAssessment(row: AssessmentRow): void {
    this.db.prepare(`INSERT INTO assessments (image_id, model_id, item_pk, score, good, threshold, detected_objects, detection_accuracy,
      boxes_json, overlay_path, heatmap_path, created_at, finished_date) VALUES (@image_id, @model_id, @item_pk, @score, @good, @threshold,
      @detected_objects, @detection_accuracy, @boxes_json, @overlay_path, @heatmap_path, @created_at, @finished_date)
      ON CONFLICT(image_id, model_id) DO UPDATE SET score = excluded.score, good = excluded.good, threshold = excluded.threshold,
      detected_objects = excluded.detected_objects, detection_accuracy = excluded.detection_accuracy, boxes_json = excluded.boxes_json,
      overlay_path = excluded.overlay_path, heatmap_path = excluded.heatmap_path, finished_date = excluded.finished_date`).run(row);
  }

  /** Result files of a model's assessments (to delete them with the model). */
  resultPathsOfModel(modelId: number): string[] {
    const rows = this.db.prepare('SELECT overlay_path, heatmap_path FROM assessments WHERE model_id = ?').all(modelId) as { overlay_path: string; heatmap_path: string }[];
    return rows.flatMap((r) => [r.overlay_path, r.heatmap_path]);
  }

  countPredictedSince(clientId: string, since: string): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM assessments a JOIN items i ON i.pk = a.item_pk
      WHERE i.client_id = ? AND a.finished_date >= ?`).get(clientId, since) as { n: number }).n;
  }

  /** Verdicts of one model on items a person confirmed: what the model said and what was right. */
  confirmedOutcomes(modelId: number): { computedGood: boolean; finalGood: boolean }[] {
    const rows = this.db.prepare(`SELECT i.pk, MIN(a.good) AS computed_good, i.override_good FROM assessments a JOIN items i ON i.pk = a.item_pk
      WHERE a.model_id = ? AND i.confirmed = 1 GROUP BY i.pk`).all(modelId) as { computed_good: number; override_good: number | null }[];
    return rows.map((r) => ({ computedGood: r.computed_good === 1, finalGood: r.override_good === null ? r.computed_good === 1 : r.override_good === 1 }));
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}

/** Assessments by item, in the order the query gave them. */
function groupByItem(rows: AssessmentRow[]): Map<number, AssessmentRow[]> {
  const grouped = new Map<number, AssessmentRow[]>();
  for (const row of rows) {
    const list = grouped.get(row.item_pk);
    if (list) list.push(row);
    else grouped.set(row.item_pk, [row]);
  }
  return grouped;
}
