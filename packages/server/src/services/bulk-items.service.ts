import { ApiError, message } from '../http/errors.ts';
import type { ItemModelResult, ItemRow, ItemsRepository } from '../store/items.repository.ts';
import type { TargetsService } from './targets.service.ts';

export type BulkChange =
  | { action: 'label'; good: boolean | null }
  | { action: 'archive' | 'restore' }
  | { action: 'move'; target: string | number };

/** Most item ids one bulk request may name (the items page selects at most a whole product line of this size). */
export const MAX_BULK_ITEMS = 20_000;
export const DEFAULT_ROWS_LIMIT = 2_000;
export const MAX_ROWS_LIMIT = 10_000;

/** A page of a target's items for the compact rows (items.wire.ts `presentItemRow` shapes each). */
export interface ItemRowsPage {
  target_id: number;
  items: { item: ItemRow; imageId: number | null; results: ItemModelResult[] }[];
  next_cursor: string | null;
}

/**
 * The items page at factory scale: a compact row per item (verdict, scores, review state, dates) that a browser
 * filters and draws by the ten thousand, and changes to many items at once. Set-based SQL in parts of 500, so a
 * request costs a few dozen queries whatever the count.
 */
export class BulkItemsService {
  constructor(private readonly items: ItemsRepository, private readonly targets: TargetsService) {}

  /** A page of a target's items in upload order; `next_cursor` (null on the last page) asks for the next. */
  async rows(clientId: string, query: { target?: string; limit?: number; cursor?: string }): Promise<ItemRowsPage> {
    const target = await this.targets.resolve(clientId, query.target);
    const limit = Math.min(query.limit ?? DEFAULT_ROWS_LIMIT, MAX_ROWS_LIMIT);
    const after = query.cursor ? Number(query.cursor) : 0;
    let page = await this.items.pageOfItems(clientId, target.target_id, { after, limit: limit + 1 });
    const nextCursor = page.length > limit ? String(page[limit - 1].pk) : null;
    page = page.slice(0, limit);
    const pks = page.map((item) => item.pk);
    const firstImages = await this.items.firstImageIdsOf(clientId, pks);
    const results = await this.items.resultsOfItems(pks);
    return {
      target_id: target.target_id,
      items: page.map((item) => ({ item, imageId: firstImages.get(item.pk) ?? null, results: results.get(item.pk) ?? [] })),
      next_cursor: nextCursor,
    };
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
          await this.items.setArchived(found.map((item) => item.pk), change.action === 'archive');
          break;
        case 'label':
          await this.label(found, change.good);
          break;
        case 'move':
          // The summary-count triggers move the items' verdicts' counts with them.
          await this.items.moveToTarget(found.filter((item) => item.target_id !== destination!.target_id).map((item) => item.pk), destination!.target_id);
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
    await this.items.setTrainingLabels(training, good);
    if (good === null) {
      await this.items.clearReviews(predict);
      return;
    }
    const results = await this.items.resultsOfItems(predict);
    const same: number[] = [];
    const overridden: number[] = [];
    for (const pk of predict) {
      const newest = results.get(pk)?.at(-1);
      (newest !== undefined && newest.good === good ? same : overridden).push(pk);
    }
    await this.items.setReviews(same, null);
    await this.items.setReviews(overridden, good);
  }
}
