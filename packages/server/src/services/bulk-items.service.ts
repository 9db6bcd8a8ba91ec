import { ApiError, message } from '../http/errors.ts';
import { inList, sql, type Database } from '../store/database.ts';
import { chunks, type ItemRow, type ItemsRepository } from '../store/items.repository.ts';
import type { TargetsService } from './targets.service.ts';

/** The grid's verdict of an item: a training label, or the prediction (a person's review first). */
export type RowVerdict = 'good' | 'defect' | 'unlabelled' | 'OK' | 'NG' | 'pending';

/** One model's result on an item: NG when any image is, the highest image score. */
export interface RowResult {
  model_id: number;
  good: boolean;
  score: number;
  threshold: number;
  finished_date: string;
}

export interface ItemRowView {
  item_id: string;
  target_id: number;
  tab: 'training' | 'predict' | 'archived';
  is_training_data: boolean;
  verdict: RowVerdict;
  status: 'pending' | 'done';
  prediction_failed: boolean;
  reviewed: boolean;
  overridden: boolean;
  created_at: string;
  finished_date: string | null;
  /** The first image, for the thumbnail (see `thumbnail_url`); null for an item without images. */
  image_id: number | null;
  /** Every model's result, oldest prediction first; the last one is the item's computed verdict. */
  results: RowResult[];
}

export type BulkChange =
  | { action: 'label'; good: boolean | null }
  | { action: 'archive' | 'restore' }
  | { action: 'move'; target: string | number };

/** Most item ids one bulk request may name (the items page selects at most a whole product line of this size). */
export const MAX_BULK_ITEMS = 20_000;
export const DEFAULT_ROWS_LIMIT = 2_000;
export const MAX_ROWS_LIMIT = 10_000;

/**
 * The items page at factory scale: a compact row per item (verdict, scores, review state, dates) that a browser
 * filters and draws by the ten thousand, and changes to many items at once. Set-based SQL in parts of 500, so a
 * request costs a few dozen queries whatever the count.
 */
export class BulkItemsService {
  constructor(private readonly db: Database, private readonly items: ItemsRepository, private readonly targets: TargetsService) {}

  /** A page of a target's items in upload order, as rows; `next_cursor` (null on the last page) asks for the next. */
  async rows(clientId: string, query: { target?: string; limit?: number; cursor?: string }): Promise<{ target_id: number; rows: ItemRowView[]; next_cursor: string | null }> {
    const target = await this.targets.resolve(clientId, query.target);
    const limit = Math.min(query.limit ?? DEFAULT_ROWS_LIMIT, MAX_ROWS_LIMIT);
    const after = query.cursor ? Number(query.cursor) : 0;
    let page = await this.items.pageOfItems(clientId, target.target_id, { after, limit: limit + 1 });
    const nextCursor = page.length > limit ? String(page[limit - 1].pk) : null;
    page = page.slice(0, limit);
    const pks = page.map((item) => item.pk);
    const firstImages = await this.items.firstImageIdsOf(clientId, pks);
    const results = await this.resultsOf(pks);
    return { target_id: target.target_id, rows: page.map((item) => rowOf(item, firstImages.get(item.pk) ?? null, results.get(item.pk) ?? [])), next_cursor: nextCursor };
  }

  /** Per item and model: NG when any image is, the highest score, in the order the predictions finished. */
  private async resultsOf(pks: number[]): Promise<Map<number, RowResult[]>> {
    const byItem = new Map<number, RowResult[]>();
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

  /**
   * Applies one change to many items of the client, all or none: an id the client does not own (unknown, or
   * another client's) refuses the whole request with 404 naming it, and nothing changes.
   */
  async apply(clientId: string, itemIds: string[], change: BulkChange): Promise<{ changed: number }> {
    const unique = [...new Set(itemIds)];
    const found = await this.items.findItems(clientId, unique);
    if (found.length !== unique.length) {
      const known = new Set(found.map((item) => item.item_id));
      const missing = unique.filter((id) => !known.has(id));
      throw new ApiError(404, 'itemsNotFound', message('bulkItemsMissing', { count: missing.length, ids: missing.slice(0, 10).join(', ') }));
    }
    const destination = change.action === 'move' ? await this.targets.resolve(clientId, change.target) : null;
    await this.items.transaction(async () => {
      switch (change.action) {
        case 'archive':
        case 'restore':
          for (const part of chunks(found.map((item) => item.pk))) {
            await this.db.run(sql`UPDATE items SET archived = ${change.action === 'archive' ? 1 : 0} WHERE pk IN ${inList(part)}`);
          }
          break;
        case 'label':
          await this.label(found, change.good);
          break;
        case 'move':
          await this.move(found, destination!.target_id);
          break;
      }
    });
    return { changed: found.length };
  }

  /**
   * OK / NG / unlabelled: a training item's label; on a predict item, a person's review as PATCH /item does it
   * (the same verdict as the model's confirms it, the other overrides it), and "unlabelled" takes the review back.
   */
  private async label(items: ItemRow[], good: boolean | null): Promise<void> {
    const training = items.filter((item) => item.is_training === 1).map((item) => item.pk);
    const predict = items.filter((item) => item.is_training !== 1).map((item) => item.pk);
    const flag = good === null ? null : good ? 1 : 0;
    for (const part of chunks(training)) {
      await this.db.run(good === null
        ? sql`UPDATE items SET good = NULL, confirmed = 0, override_good = NULL WHERE pk IN ${inList(part)}`
        : sql`UPDATE items SET good = ${flag}, confirmed = 1, override_good = NULL WHERE pk IN ${inList(part)}`);
    }
    if (good === null) {
      for (const part of chunks(predict)) await this.db.run(sql`UPDATE items SET confirmed = 0, override_good = NULL WHERE pk IN ${inList(part)}`);
      return;
    }
    const results = await this.resultsOf(predict);
    for (const part of chunks(predict)) {
      const same: number[] = [];
      const overridden: number[] = [];
      for (const pk of part) {
        const newest = results.get(pk)?.at(-1);
        (newest !== undefined && newest.good === good ? same : overridden).push(pk);
      }
      if (same.length) await this.db.run(sql`UPDATE items SET confirmed = 1, override_good = NULL WHERE pk IN ${inList(same)}`);
      if (overridden.length) await this.db.run(sql`UPDATE items SET confirmed = 1, override_good = ${flag} WHERE pk IN ${inList(overridden)}`);
    }
  }

  /** Moves items to another target; the summary-count triggers move their verdicts' counts with them. */
  private async move(items: ItemRow[], targetId: number): Promise<void> {
    const moving = items.filter((item) => item.target_id !== targetId).map((item) => item.pk);
    for (const part of chunks(moving)) await this.db.run(sql`UPDATE items SET target_id = ${targetId} WHERE pk IN ${inList(part)}`);
  }
}

function rowOf(item: ItemRow, imageId: number | null, results: RowResult[]): ItemRowView {
  const isTraining = item.is_training === 1;
  const failed = !isTraining && item.prediction_error !== null;
  const newest = failed ? undefined : results.at(-1);
  let verdict: RowVerdict;
  if (isTraining) verdict = item.good === 1 ? 'good' : item.good === 0 ? 'defect' : 'unlabelled';
  else if (item.status !== 'done') verdict = 'pending';
  else if (item.override_good !== null) verdict = item.override_good === 1 ? 'OK' : 'NG';
  else verdict = newest === undefined ? 'pending' : newest.good ? 'OK' : 'NG';
  return {
    item_id: item.item_id,
    target_id: item.target_id,
    tab: item.archived === 1 ? 'archived' : isTraining ? 'training' : 'predict',
    is_training_data: isTraining,
    verdict,
    status: item.status,
    prediction_failed: failed,
    reviewed: item.confirmed === 1,
    overridden: item.override_good !== null,
    created_at: item.created_at,
    finished_date: item.finished_date,
    image_id: imageId,
    results,
  };
}
