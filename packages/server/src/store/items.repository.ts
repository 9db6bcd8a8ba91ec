import { inList, nowIso, sql, type Database } from './database.ts';
import { groupBy } from '../util/group-by.ts';

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
  constructor(private readonly db: Database) {}

  findItem(clientId: string, itemId: string): Promise<ItemRow | undefined> {
    return this.db.get<ItemRow>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND item_id = ${itemId}`);
  }

  /** Whether some other client has an item of this id (to answer 401 rather than 404, as the original). */
  async existsForAnotherClient(clientId: string, itemId: string): Promise<boolean> {
    return (await this.db.get(sql`SELECT 1 AS found FROM items WHERE client_id <> ${clientId} AND item_id = ${itemId} LIMIT 1`)) !== undefined;
  }

  /** The client's items among these ids, in upload order. */
  async findItems(clientId: string, itemIds: string[]): Promise<ItemRow[]> {
    const rows: ItemRow[] = [];
    for (const ids of chunks(itemIds)) {
      rows.push(...await this.db.all<ItemRow>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND item_id IN ${inList(ids)}`));
    }
    return rows.sort((a, b) => a.pk - b.pk);
  }

  /** These items, in the order of `pks` (missing ones left out). */
  async itemsByPk(pks: number[]): Promise<ItemRow[]> {
    const byPk = new Map<number, ItemRow>();
    for (const part of chunks(pks)) {
      for (const row of await this.db.all<ItemRow>(sql`SELECT * FROM items WHERE pk IN ${inList(part)}`)) byPk.set(row.pk, row);
    }
    return pks.map((pk) => byPk.get(pk)).filter((row): row is ItemRow => row !== undefined);
  }

  listItems(clientId: string): Promise<ItemRow[]> {
    return this.db.all<ItemRow>(sql`SELECT * FROM items WHERE client_id = ${clientId} ORDER BY pk`);
  }

  /**
   * One page of a target's items in upload order, after the cursor (a pk), optionally of one status;
   * read through the (client, target, [status,] pk) indexes so a page costs the same at any size.
   */
  pageOfItems(clientId: string, targetId: number, query: { status?: 'pending' | 'done'; after: number; limit: number | null }): Promise<ItemRow[]> {
    const status = query.status ? sql`AND status = ${query.status}` : sql``;
    const limit = query.limit === null ? sql`` : sql`LIMIT ${query.limit}`;
    return this.db.all<ItemRow>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND target_id = ${targetId} ${status}
      AND pk > ${query.after} ORDER BY pk ${limit}`);
  }

  /** The summary's counts of a target, read from indexes and the trigger-kept summary_counts (see migrations). */
  async summaryCounts(clientId: string, targetId: number): Promise<SummaryCounts> {
    return { training: await this.trainingCounts(clientId, targetId), predictions: await this.predictionCounts(targetId) };
  }

  /** Training labels of a target's items that are not archived, counted in SQL. */
  async trainingCounts(clientId: string, targetId: number): Promise<{ ok: number; ng: number; unlabelled: number }> {
    const rows = await this.db.all<{ good: number | null; n: number }>(sql`SELECT good, COUNT(*) AS n FROM items
      WHERE client_id = ${clientId} AND target_id = ${targetId} AND is_training = 1 AND archived = 0 GROUP BY good`);
    const count = (good: number | null) => rows.find((r) => r.good === good)?.n ?? 0;
    return { ok: count(1), ng: count(0), unlabelled: count(null) };
  }

  /**
   * Per model, the verdicts on a target's predict items that are not archived (an item is OK when all its
   * images are): how many OK/NG, confirmed, and confirmed but overridden. Kept up to date by triggers.
   */
  predictionCounts(targetId: number): Promise<{ model_id: number; ok: number; ng: number; done: number; confirmed: number; adjusted: number }[]> {
    return this.db.all(sql`SELECT model_id, ok, ng, ok + ng AS done, confirmed, adjusted FROM summary_counts
      WHERE target_id = ${targetId} AND ok + ng > 0 ORDER BY model_id`);
  }

  trainingItems(clientId: string, targetId: number): Promise<ItemRow[]> {
    return this.db.all<ItemRow>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND target_id = ${targetId} AND is_training = 1
      AND archived = 0 ORDER BY pk`);
  }

  /** A new item: a training item is done at once (nothing waits for it, as in the original); a predict item waits for its prediction. */
  async insertItem(clientId: string, targetId: number, itemId: string, isTraining: boolean, good: boolean | null): Promise<ItemRow> {
    return (await this.db.get<ItemRow>(sql`INSERT INTO items (client_id, target_id, item_id, label, is_training, good, status, created_at)
      VALUES (${clientId}, ${targetId}, ${itemId}, ${itemId}, ${isTraining ? 1 : 0}, ${flag(good)}, ${isTraining ? 'done' : 'pending'}, ${nowIso()}) RETURNING *`))!;
  }

  async updateItemLabel(pk: number, isTraining: boolean, good: boolean | null): Promise<void> {
    await this.db.run(sql`UPDATE items SET is_training = ${isTraining ? 1 : 0}, good = ${flag(good)} WHERE pk = ${pk}`);
  }

  /** A person's review: confirmed, with the verdict overridden (override_good) or not (null). */
  async setReview(pk: number, overrideGood: boolean | null): Promise<void> {
    await this.db.run(sql`UPDATE items SET confirmed = 1, override_good = ${flag(overrideGood)} WHERE pk = ${pk}`);
  }

  async setArchived(pk: number, archived: boolean): Promise<void> {
    await this.db.run(sql`UPDATE items SET archived = ${archived ? 1 : 0} WHERE pk = ${pk}`);
  }

  /** Deletes an item; its images, annotations and assessments go with it (foreign keys cascade). */
  async deleteItem(pk: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run(sql`DELETE FROM assessments WHERE item_pk = ${pk}`);
      await this.db.run(sql`DELETE FROM items WHERE pk = ${pk}`);
    });
  }

  async setItemsPending(pks: number[]): Promise<void> {
    for (const part of chunks(pks)) {
      await this.db.run(sql`UPDATE items SET status = 'pending', finished_date = NULL, prediction_error = NULL WHERE pk IN ${inList(part)}`);
    }
  }

  async setItemDone(pk: number): Promise<void> {
    await this.db.run(sql`UPDATE items SET status = 'done', finished_date = ${nowIso()}, prediction_error = NULL WHERE pk = ${pk}`);
  }

  /** The prediction ended without a result: done (nothing more will happen), with the reason kept on the item. */
  async setItemFailed(pk: number, reasonJson: string): Promise<void> {
    await this.db.run(sql`UPDATE items SET status = 'done', finished_date = ${nowIso()}, prediction_error = ${reasonJson} WHERE pk = ${pk}`);
  }

  imagesOfItem(itemPk: number): Promise<ImageRow[]> {
    return this.db.all<ImageRow>(sql`SELECT * FROM images WHERE item_pk = ${itemPk} ORDER BY image_id`);
  }

  /** Per item, how many images it has and how many of those carry annotation boxes (what a training would get). */
  async imageCountsOf(pks: number[]): Promise<Map<number, { images: number; annotated: number }>> {
    const found = new Map<number, { images: number; annotated: number }>();
    for (const part of chunks(pks)) {
      const rows = await this.db.all<{ item_pk: number; images: number; annotated: number }>(sql`SELECT im.item_pk, COUNT(*) AS images,
        COUNT(CASE WHEN EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = im.image_id) THEN 1 END) AS annotated
        FROM images im WHERE im.item_pk IN ${inList(part)} GROUP BY im.item_pk`);
      for (const row of rows) found.set(row.item_pk, { images: Number(row.images), annotated: Number(row.annotated) });
    }
    return found;
  }

  /** The id of the first image of each of these items (read from the index alone). */
  async firstImageIdsOf(clientId: string, pks: number[]): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    for (const part of chunks(pks)) {
      const rows = await this.db.all<{ item_pk: number; image_id: number }>(sql`SELECT item_pk, MIN(image_id) AS image_id FROM images
        WHERE client_id = ${clientId} AND item_pk IN ${inList(part)} GROUP BY item_pk`);
      for (const row of rows) found.set(row.item_pk, row.image_id);
    }
    return found;
  }

  /** Assessments of these items, grouped by item. */
  async assessmentsOfItems(pks: number[]): Promise<Map<number, AssessmentRow[]>> {
    const rows: AssessmentRow[] = [];
    for (const part of chunks(pks)) {
      rows.push(...await this.db.all<AssessmentRow>(sql`SELECT * FROM assessments WHERE item_pk IN ${inList(part)}`));
    }
    rows.sort((a, b) => a.model_id - b.model_id || a.image_id - b.image_id);
    return groupBy(rows, (row) => row.item_pk);
  }

  /** The id of the first image of every item of a client, for lists (read from the index alone). */
  async firstImageIds(clientId: string): Promise<Map<number, number>> {
    const rows = await this.db.all<{ item_pk: number; image_id: number }>(sql`SELECT item_pk, MIN(image_id) AS image_id FROM images
      WHERE client_id = ${clientId} GROUP BY item_pk`);
    return new Map(rows.map((row) => [row.item_pk, row.image_id]));
  }

  findImage(clientId: string, imageId: number): Promise<ImageRow | undefined> {
    return this.db.get<ImageRow>(sql`SELECT * FROM images WHERE client_id = ${clientId} AND image_id = ${imageId}`);
  }

  async insertImage(itemPk: number, image: NewImage): Promise<ImageRow> {
    return (await this.db.get<ImageRow>(sql`INSERT INTO images (item_pk, client_id, file_name, content_type, file_size, width, height, sha256,
      raw_path, thumbnail_path, exif_json, created_at) VALUES (${itemPk}, ${image.client_id}, ${image.file_name}, ${image.content_type},
      ${image.file_size}, ${image.width}, ${image.height}, ${image.sha256}, ${image.raw_path}, ${image.thumbnail_path}, ${image.exif_json},
      ${nowIso()}) RETURNING *`))!;
  }

  annotationsOfImage(imageId: number): Promise<AnnotationRow[]> {
    return this.db.all<AnnotationRow>(sql`SELECT * FROM annotations WHERE image_id = ${imageId} ORDER BY annotation_id`);
  }

  async replaceAnnotations(imageId: number, boxes: Omit<AnnotationRow, 'annotation_id' | 'image_id' | 'created_at'>[]): Promise<void> {
    const now = nowIso();
    await this.db.transaction(async () => {
      await this.db.run(sql`DELETE FROM annotations WHERE image_id = ${imageId}`);
      for (const b of boxes) {
        await this.db.run(sql`INSERT INTO annotations (image_id, x_min, x_max, y_min, y_max, notes, created_at)
          VALUES (${imageId}, ${b.x_min}, ${b.x_max}, ${b.y_min}, ${b.y_max}, ${b.notes}, ${now})`);
      }
    });
  }

  assessmentsOfItem(itemPk: number): Promise<AssessmentRow[]> {
    return this.db.all<AssessmentRow>(sql`SELECT * FROM assessments WHERE item_pk = ${itemPk} ORDER BY model_id, image_id`);
  }

  /** All assessments of a client's items, grouped by item, for lists and the summary. */
  async assessmentsByItem(clientId: string): Promise<Map<number, AssessmentRow[]>> {
    const rows = await this.db.all<AssessmentRow>(sql`SELECT a.* FROM assessments a JOIN items i ON i.pk = a.item_pk
      WHERE i.client_id = ${clientId} ORDER BY a.model_id, a.image_id`);
    return groupBy(rows, (row) => row.item_pk);
  }

  findAssessment(imageId: number, modelId: number): Promise<AssessmentRow | undefined> {
    return this.db.get<AssessmentRow>(sql`SELECT * FROM assessments WHERE image_id = ${imageId} AND model_id = ${modelId}`);
  }

  newestAssessmentOfImage(imageId: number): Promise<AssessmentRow | undefined> {
    return this.db.get<AssessmentRow>(sql`SELECT * FROM assessments WHERE image_id = ${imageId}
      ORDER BY finished_date DESC, model_id DESC LIMIT 1`);
  }

  async upsertAssessment(row: AssessmentRow): Promise<void> {
    await this.db.run(sql`INSERT INTO assessments (image_id, model_id, item_pk, score, good, threshold, detected_objects, detection_accuracy,
      boxes_json, overlay_path, heatmap_path, created_at, finished_date) VALUES (${row.image_id}, ${row.model_id}, ${row.item_pk},
      ${row.score}, ${row.good}, ${row.threshold}, ${row.detected_objects}, ${row.detection_accuracy}, ${row.boxes_json},
      ${row.overlay_path}, ${row.heatmap_path}, ${row.created_at}, ${row.finished_date})
      ON CONFLICT (image_id, model_id) DO UPDATE SET score = excluded.score, good = excluded.good, threshold = excluded.threshold,
      detected_objects = excluded.detected_objects, detection_accuracy = excluded.detection_accuracy, boxes_json = excluded.boxes_json,
      overlay_path = excluded.overlay_path, heatmap_path = excluded.heatmap_path, finished_date = excluded.finished_date`);
  }

  /** Result files of a model's assessments (to delete them with the model). */
  async resultPathsOfModel(modelId: number): Promise<string[]> {
    const rows = await this.db.all<{ overlay_path: string; heatmap_path: string }>(sql`SELECT overlay_path, heatmap_path FROM assessments
      WHERE model_id = ${modelId}`);
    return rows.flatMap((r) => [r.overlay_path, r.heatmap_path]);
  }

  async countPredictedSince(clientId: string, since: string): Promise<number> {
    const row = await this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM assessments a JOIN items i ON i.pk = a.item_pk
      WHERE i.client_id = ${clientId} AND a.finished_date >= ${since}`);
    return row!.n;
  }

  /** Verdicts of one model on items a person confirmed: what the model said and what was right. */
  async confirmedOutcomes(modelId: number): Promise<{ computedGood: boolean; finalGood: boolean }[]> {
    const rows = await this.db.all<{ computed_good: number; override_good: number | null }>(sql`SELECT i.pk, MIN(a.good) AS computed_good,
      i.override_good FROM assessments a JOIN items i ON i.pk = a.item_pk WHERE a.model_id = ${modelId} AND i.confirmed = 1
      GROUP BY i.pk, i.override_good`);
    return rows.map((r) => ({ computedGood: r.computed_good === 1, finalGood: r.override_good === null ? r.computed_good === 1 : r.override_good === 1 }));
  }

  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }
}

/** A boolean column's value (integers in both databases). */
function flag(value: boolean | null): number | null {
  return value === null ? null : value ? 1 : 0;
}

/** Long id lists in parts, under both databases' limits on bound parameters. */
export function chunks<T>(values: T[], size = 500): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < values.length; i += size) parts.push(values.slice(i, i + size));
  return parts;
}
