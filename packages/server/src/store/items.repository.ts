import type { Box, DetectedBox } from '@kensa/engine';
import type { Message } from '../i18n/index.ts';
import { inList, nowIso, sql, type Database } from './database.ts';
import { groupBy } from '../util/group-by.ts';

/** An item; flags are the databases' integers (1/0). */
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
  /** Why the last prediction of this item failed, a catalogue message (null when it did not). */
  prediction_error: Message | null;
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
  /** The EXIF fields read at upload. */
  exif: Record<string, unknown>;
  created_at: string;
}

/** A box a person drew on an image (pixels of the image). */
export interface AnnotationRow extends Box {
  annotation_id: number;
  image_id: number;
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
  /** What the model found, in pixels of the image. */
  boxes: DetectedBox[];
  overlay_path: string;
  heatmap_path: string;
  created_at: string;
  finished_date: string;
}

export type NewImage = Omit<ImageRow, 'image_id' | 'item_pk' | 'created_at'>;

// The rows as the databases hold them: JSON columns as text, parsed on the way out so that no caller parses them.
type StoredItem = Omit<ItemRow, 'prediction_error'> & { prediction_error: string | null };
type StoredImage = Omit<ImageRow, 'exif'> & { exif_json: string };
type StoredAssessment = Omit<AssessmentRow, 'boxes'> & { boxes_json: string };

function itemOf({ prediction_error, ...row }: StoredItem): ItemRow {
  return { ...row, prediction_error: prediction_error === null ? null : JSON.parse(prediction_error) as Message };
}

function imageOf({ exif_json, ...row }: StoredImage): ImageRow {
  return { ...row, exif: JSON.parse(exif_json) as Record<string, unknown> };
}

function assessmentOf({ boxes_json, ...row }: StoredAssessment): AssessmentRow {
  return { ...row, boxes: JSON.parse(boxes_json) as DetectedBox[] };
}

/** Items, their images, annotations and assessments; every read is scoped by client id. */
export type SummaryCounts = {
  training: { ok: number; ng: number; unlabelled: number };
  predictions: { model_id: number; ok: number; ng: number; done: number; confirmed: number; adjusted: number }[];
};

export class ItemsRepository {
  constructor(private readonly db: Database) {}

  async findItem(clientId: string, itemId: string): Promise<ItemRow | undefined> {
    const row = await this.db.get<StoredItem>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND item_id = ${itemId}`);
    return row && itemOf(row);
  }

  /** Whether some other client has an item of this id (to answer 401 rather than 404, as the original). */
  async existsForAnotherClient(clientId: string, itemId: string): Promise<boolean> {
    return (await this.db.get(sql`SELECT 1 AS found FROM items WHERE client_id <> ${clientId} AND item_id = ${itemId} LIMIT 1`)) !== undefined;
  }

  /** The client's items among these ids, in upload order. */
  async findItems(clientId: string, itemIds: string[]): Promise<ItemRow[]> {
    const rows: ItemRow[] = [];
    for (const ids of chunks(itemIds)) {
      rows.push(...(await this.db.all<StoredItem>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND item_id IN ${inList(ids)}`)).map(itemOf));
    }
    return rows.sort((a, b) => a.pk - b.pk);
  }

  /** These items, in the order of `pks` (missing ones left out). */
  async itemsByPk(pks: number[]): Promise<ItemRow[]> {
    const byPk = new Map<number, ItemRow>();
    for (const part of chunks(pks)) {
      for (const row of await this.db.all<StoredItem>(sql`SELECT * FROM items WHERE pk IN ${inList(part)}`)) byPk.set(row.pk, itemOf(row));
    }
    return pks.map((pk) => byPk.get(pk)).filter((row): row is ItemRow => row !== undefined);
  }

  /**
   * One page of a target's items in upload order, after the cursor (a pk), optionally of one status;
   * read through the (client, target, [status,] pk) indexes so a page costs the same at any size.
   */
  async pageOfItems(clientId: string, targetId: number, query: { status?: 'pending' | 'done'; after: number; limit: number | null }): Promise<ItemRow[]> {
    const status = query.status ? sql`AND status = ${query.status}` : sql``;
    const limit = query.limit === null ? sql`` : sql`LIMIT ${query.limit}`;
    return (await this.db.all<StoredItem>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND target_id = ${targetId} ${status}
      AND pk > ${query.after} ORDER BY pk ${limit}`)).map(itemOf);
  }

  /** The summary's counts of a target, read from indexes and the trigger-kept summary_counts (see migrations). */
  async summaryCounts(clientId: string, targetId: number): Promise<SummaryCounts> {
    return { training: await this.trainingCounts(clientId, targetId), predictions: await this.predictionCounts(targetId) };
  }

  /** Training labels of a target's items that are not archived, counted in SQL. */
  private async trainingCounts(clientId: string, targetId: number): Promise<{ ok: number; ng: number; unlabelled: number }> {
    const rows = await this.db.all<{ good: number | null; n: number }>(sql`SELECT good, COUNT(*) AS n FROM items
      WHERE client_id = ${clientId} AND target_id = ${targetId} AND is_training = 1 AND archived = 0 GROUP BY good`);
    const count = (good: number | null) => rows.find((r) => r.good === good)?.n ?? 0;
    return { ok: count(1), ng: count(0), unlabelled: count(null) };
  }

  /**
   * Per model, the verdicts on a target's predict items that are not archived (an item is OK when all its
   * images are): how many OK/NG, confirmed, and confirmed but overridden. Kept up to date by triggers.
   */
  private predictionCounts(targetId: number): Promise<SummaryCounts['predictions']> {
    return this.db.all(sql`SELECT model_id, ok, ng, ok + ng AS done, confirmed, adjusted FROM summary_counts
      WHERE target_id = ${targetId} AND ok + ng > 0 ORDER BY model_id`);
  }

  async trainingItems(clientId: string, targetId: number): Promise<ItemRow[]> {
    return (await this.db.all<StoredItem>(sql`SELECT * FROM items WHERE client_id = ${clientId} AND target_id = ${targetId} AND is_training = 1
      AND archived = 0 ORDER BY pk`)).map(itemOf);
  }

  /** A new item: a training item is done at once (nothing waits for it, as in the original); a predict item waits for its prediction. */
  async insertItem(clientId: string, targetId: number, itemId: string, isTraining: boolean, good: boolean | null): Promise<ItemRow> {
    return itemOf((await this.db.get<StoredItem>(sql`INSERT INTO items (client_id, target_id, item_id, label, is_training, good, status, created_at)
      VALUES (${clientId}, ${targetId}, ${itemId}, ${itemId}, ${isTraining ? 1 : 0}, ${flag(good)}, ${isTraining ? 'done' : 'pending'}, ${nowIso()}) RETURNING *`))!);
  }

  async updateItemLabel(pk: number, isTraining: boolean, good: boolean | null): Promise<void> {
    await this.db.run(sql`UPDATE items SET is_training = ${isTraining ? 1 : 0}, good = ${flag(good)} WHERE pk = ${pk}`);
  }

  async setArchived(pks: number[], archived: boolean): Promise<void> {
    for (const part of chunks(pks)) await this.db.run(sql`UPDATE items SET archived = ${archived ? 1 : 0} WHERE pk IN ${inList(part)}`);
  }

  /** Training items' labels, set by a person: confirmed with that label, or taken back to unlabelled (null). */
  async setTrainingLabels(pks: number[], good: boolean | null): Promise<void> {
    for (const part of chunks(pks)) {
      await this.db.run(good === null
        ? sql`UPDATE items SET good = NULL, confirmed = 0, override_good = NULL WHERE pk IN ${inList(part)}`
        : sql`UPDATE items SET good = ${flag(good)}, confirmed = 1, override_good = NULL WHERE pk IN ${inList(part)}`);
    }
  }

  /** A person's reviews: confirmed, with the verdict overridden (`overrideGood`) or kept (null). */
  async setReviews(pks: number[], overrideGood: boolean | null): Promise<void> {
    for (const part of chunks(pks)) await this.db.run(sql`UPDATE items SET confirmed = 1, override_good = ${flag(overrideGood)} WHERE pk IN ${inList(part)}`);
  }

  /** Reviews taken back: the items are unconfirmed again. */
  async clearReviews(pks: number[]): Promise<void> {
    for (const part of chunks(pks)) await this.db.run(sql`UPDATE items SET confirmed = 0, override_good = NULL WHERE pk IN ${inList(part)}`);
  }

  /** Moves items to another target; the summary-count triggers move their verdicts' counts with them. */
  async moveToTarget(pks: number[], targetId: number): Promise<void> {
    for (const part of chunks(pks)) await this.db.run(sql`UPDATE items SET target_id = ${targetId} WHERE pk IN ${inList(part)}`);
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
  async setItemFailed(pk: number, reason: Message): Promise<void> {
    await this.db.run(sql`UPDATE items SET status = 'done', finished_date = ${nowIso()}, prediction_error = ${JSON.stringify(reason)} WHERE pk = ${pk}`);
  }

  async imagesOfItem(itemPk: number): Promise<ImageRow[]> {
    return (await this.db.all<StoredImage>(sql`SELECT * FROM images WHERE item_pk = ${itemPk} ORDER BY image_id`)).map(imageOf);
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

  /** The item id of each of these images that is the client's (others left out). */
  async itemIdsOfImages(clientId: string, imageIds: number[]): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    for (const part of chunks(imageIds)) {
      const rows = await this.db.all<{ image_id: number; item_id: string }>(sql`SELECT im.image_id, it.item_id FROM images im
        JOIN items it ON it.pk = im.item_pk WHERE im.client_id = ${clientId} AND im.image_id IN ${inList(part)}`);
      for (const row of rows) found.set(row.image_id, row.item_id);
    }
    return found;
  }

  /** Whether an image of the client keeps its file (or thumbnail) at this key. */
  async isImagePath(clientId: string, key: string): Promise<boolean> {
    return (await this.db.get(sql`SELECT 1 AS found FROM images WHERE client_id = ${clientId}
      AND (raw_path = ${key} OR thumbnail_path = ${key}) LIMIT 1`)) !== undefined;
  }

  /** Assessments of these items, grouped by item. */
  async assessmentsOfItems(pks: number[]): Promise<Map<number, AssessmentRow[]>> {
    const rows: AssessmentRow[] = [];
    for (const part of chunks(pks)) {
      rows.push(...(await this.db.all<StoredAssessment>(sql`SELECT * FROM assessments WHERE item_pk IN ${inList(part)}`)).map(assessmentOf));
    }
    rows.sort((a, b) => a.model_id - b.model_id || a.image_id - b.image_id);
    return groupBy(rows, (row) => row.item_pk);
  }

  /** Per item and model, in the order the predictions finished: NG when any image is, the highest score. */
  async resultsOfItems(pks: number[]): Promise<Map<number, ItemModelResult[]>> {
    const byItem = new Map<number, ItemModelResult[]>();
    for (const part of chunks(pks)) {
      const rows = await this.db.all<{ item_pk: number; model_id: number; good: number; score: number; threshold: number; finished_date: string }>(
        sql`SELECT item_pk, model_id, MIN(good) AS good, MAX(score) AS score, MAX(threshold) AS threshold, MAX(finished_date) AS finished_date
          FROM assessments WHERE item_pk IN ${inList(part)} GROUP BY item_pk, model_id`);
      for (const row of rows) {
        const list = byItem.get(row.item_pk) ?? [];
        list.push({ model_id: row.model_id, good: row.good === 1, score: row.score, threshold: row.threshold, finished_date: row.finished_date });
        byItem.set(row.item_pk, list);
      }
    }
    for (const list of byItem.values()) list.sort((a, b) => a.finished_date.localeCompare(b.finished_date) || a.model_id - b.model_id);
    return byItem;
  }

  async findImage(clientId: string, imageId: number): Promise<ImageRow | undefined> {
    const row = await this.db.get<StoredImage>(sql`SELECT * FROM images WHERE client_id = ${clientId} AND image_id = ${imageId}`);
    return row && imageOf(row);
  }

  async insertImage(itemPk: number, image: NewImage): Promise<ImageRow> {
    return imageOf((await this.db.get<StoredImage>(sql`INSERT INTO images (item_pk, client_id, file_name, content_type, file_size, width, height, sha256,
      raw_path, thumbnail_path, exif_json, created_at) VALUES (${itemPk}, ${image.client_id}, ${image.file_name}, ${image.content_type},
      ${image.file_size}, ${image.width}, ${image.height}, ${image.sha256}, ${image.raw_path}, ${image.thumbnail_path}, ${JSON.stringify(image.exif)},
      ${nowIso()}) RETURNING *`))!);
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

  async assessmentsOfItem(itemPk: number): Promise<AssessmentRow[]> {
    return (await this.db.all<StoredAssessment>(sql`SELECT * FROM assessments WHERE item_pk = ${itemPk} ORDER BY model_id, image_id`)).map(assessmentOf);
  }

  async findAssessment(imageId: number, modelId: number): Promise<AssessmentRow | undefined> {
    const row = await this.db.get<StoredAssessment>(sql`SELECT * FROM assessments WHERE image_id = ${imageId} AND model_id = ${modelId}`);
    return row && assessmentOf(row);
  }

  async newestAssessmentOfImage(imageId: number): Promise<AssessmentRow | undefined> {
    const row = await this.db.get<StoredAssessment>(sql`SELECT * FROM assessments WHERE image_id = ${imageId}
      ORDER BY finished_date DESC, model_id DESC LIMIT 1`);
    return row && assessmentOf(row);
  }

  async upsertAssessment(row: AssessmentRow): Promise<void> {
    await this.db.run(sql`INSERT INTO assessments (image_id, model_id, item_pk, score, good, threshold, detected_objects, detection_accuracy,
      boxes_json, overlay_path, heatmap_path, created_at, finished_date) VALUES (${row.image_id}, ${row.model_id}, ${row.item_pk},
      ${row.score}, ${row.good}, ${row.threshold}, ${row.detected_objects}, ${row.detection_accuracy}, ${JSON.stringify(row.boxes)},
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

  /**
   * Every prediction of a target's items finished in [from, until) — per item and model, NG when any image is, the
   * highest score — with the model that made it and the item's review, in the order they finished.
   */
  predictionsOfTarget(clientId: string, targetId: number, from: string, until: string): Promise<PredictionRecord[]> {
    return this.db.all<PredictionRecord>(sql`SELECT it.item_id, a.model_id, MAX(a.score) AS score, MIN(a.good) AS good, MAX(a.threshold) AS threshold,
        MAX(a.finished_date) AS finished_date, it.confirmed, it.override_good, m.name AS model_name, m.version AS model_version, m.algorithm_id
      FROM assessments a JOIN items it ON it.pk = a.item_pk JOIN models m ON m.model_id = a.model_id
      WHERE it.client_id = ${clientId} AND it.target_id = ${targetId}
        AND a.finished_date >= ${from} AND a.finished_date < ${until}
      GROUP BY it.pk, it.item_id, a.model_id, it.confirmed, it.override_good, m.name, m.version, m.algorithm_id
      ORDER BY MAX(a.finished_date), it.item_id, a.model_id`);
  }

  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }
}

/** One model's result on an item: NG when any image is, the highest image score. */
export interface ItemModelResult {
  model_id: number;
  good: boolean;
  score: number;
  threshold: number;
  finished_date: string;
}

/** One prediction of one item by one model, with the model that made it and the item's review (flags as integers). */
export interface PredictionRecord {
  item_id: string;
  model_id: number;
  score: number;
  good: number;
  threshold: number;
  finished_date: string;
  confirmed: number;
  override_good: number | null;
  model_name: string;
  model_version: string;
  algorithm_id: string;
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
