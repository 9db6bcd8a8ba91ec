// What the item lists show and how they filter: pure functions, so that they are tested without a browser and
// stay fast with tens of thousands of items.
import type { Item } from '@kensa/sdk';

/** The badge of an item: a training label, or a prediction result. */
export type Verdict = 'OK' | 'NG' | 'pending' | 'good' | 'defect' | 'unlabelled';

/** What a verdict is read from: a listed item or an item's detail. */
export type VerdictSource = Pick<Item, 'is_training_data' | 'good' | 'status' | 'confirmed_assessment'> & {
  models?: readonly { aggregate: { label: string } }[] | null;
};

export function verdictOf(item: VerdictSource): Verdict {
  if (item.is_training_data) return item.good === true ? 'good' : item.good === false ? 'defect' : 'unlabelled';
  if (item.status !== 'done') return 'pending';
  // A person's review wins over the model; the newest model's verdict otherwise.
  if (item.confirmed_assessment && typeof item.good === 'boolean') return item.good ? 'OK' : 'NG';
  const newest = item.models?.[item.models.length - 1];
  if (newest) return newest.aggregate.label === 'NG' ? 'NG' : 'OK';
  if (typeof item.good === 'boolean') return item.good ? 'OK' : 'NG';
  return 'pending';
}

export interface ItemFilter {
  /** Part of the item id, any case. */
  text: string;
  status: 'any' | 'pending' | 'done';
  verdict: 'any' | Verdict;
}

export const NO_FILTER: ItemFilter = { text: '', status: 'any', verdict: 'any' };

export function filterItems(items: readonly Item[], filter: ItemFilter): Item[] {
  const needle = filter.text.trim().toLowerCase();
  if (!needle && filter.status === 'any' && filter.verdict === 'any') return items as Item[];
  return items.filter(
    (item) =>
      (!needle || item.item_id.toLowerCase().includes(needle)) &&
      (filter.status === 'any' || item.status === filter.status) &&
      (filter.verdict === 'any' || verdictOf(item) === filter.verdict),
  );
}

export interface Page<T> {
  rows: T[];
  /** 1-based, clamped to the pages there are. */
  page: number;
  pages: number;
}

export function pageOf<T>(rows: readonly T[], page: number, pageSize: number): Page<T> {
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  return { rows: rows.slice((current - 1) * pageSize, current * pageSize), page: current, pages };
}

/** Counts per verdict, for the filter's options. */
export function countVerdicts(items: readonly Item[]): Map<Verdict, number> {
  const counts = new Map<Verdict, number>();
  for (const item of items) {
    const verdict = verdictOf(item);
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  }
  return counts;
}
