// The items page at factory scale: filters over compact rows (GET /items/rows) and the selection's arithmetic. Pure
// functions, so that they are tested without a browser and stay fast with tens of thousands of rows.
import type { ItemRow, ItemRowResult } from '@kensa/sdk';

export type Tab = ItemRow['tab'];
export type RowVerdict = ItemRow['verdict'];

export interface RowFilter {
  /** Part of the item id, any case. */
  text: string;
  verdict: 'any' | RowVerdict;
  review: 'any' | 'reviewed' | 'unreviewed' | 'overridden';
  /** Results of this model only (its verdict and score); 'any': the newest result. */
  modelId: 'any' | number;
  /** Score bounds, inclusive; null: open. An item without a result has no score and is left out by either bound. */
  scoreMin: number | null;
  scoreMax: number | null;
  /** `YYYY-MM-DD` bounds (inclusive) on the prediction's date, else the upload's; '' : open. */
  from: string;
  to: string;
}

export const NO_ROW_FILTER: RowFilter = { text: '', verdict: 'any', review: 'any', modelId: 'any', scoreMin: null, scoreMax: null, from: '', to: '' };

/** The result a row is judged by: the chosen model's, else the newest. */
export function resultOf(row: ItemRow, modelId: RowFilter['modelId']): ItemRowResult | undefined {
  return modelId === 'any' ? row.results.at(-1) : row.results.find((result) => result.model_id === modelId);
}

/** The verdict under a model filter: that model's own verdict (a person's review still wins). */
export function verdictUnder(row: ItemRow, modelId: RowFilter['modelId']): RowVerdict {
  if (modelId === 'any' || row.is_training_data || row.overridden) return row.verdict;
  const result = resultOf(row, modelId);
  return result ? (result.good ? 'OK' : 'NG') : 'pending';
}

/** The day a row counts for (its prediction's, else its upload's), in UTC as the server stores it. */
export function dayOf(row: ItemRow): string {
  return (row.finished_date ?? row.created_at).slice(0, 10);
}

export function isUnfiltered(filter: RowFilter): boolean {
  return JSON.stringify(filter) === JSON.stringify(NO_ROW_FILTER);
}

/** The rows of a tab that pass the filter, in their order; the same array when nothing filters. */
export function filterRows(rows: readonly ItemRow[], tab: Tab, filter: RowFilter): ItemRow[] {
  const needle = filter.text.trim().toLowerCase();
  const scored = filter.scoreMin !== null || filter.scoreMax !== null;
  return rows.filter((row) => {
    if (row.tab !== tab) return false;
    if (needle && !row.item_id.toLowerCase().includes(needle)) return false;
    if (filter.modelId !== 'any' && !row.results.some((result) => result.model_id === filter.modelId)) return false;
    if (filter.verdict !== 'any' && verdictUnder(row, filter.modelId) !== filter.verdict) return false;
    if (filter.review === 'reviewed' && !row.reviewed) return false;
    if (filter.review === 'unreviewed' && row.reviewed) return false;
    if (filter.review === 'overridden' && !row.overridden) return false;
    if (scored) {
      const score = resultOf(row, filter.modelId)?.score;
      if (score === undefined) return false;
      if (filter.scoreMin !== null && score < filter.scoreMin) return false;
      if (filter.scoreMax !== null && score > filter.scoreMax) return false;
    }
    if (filter.from || filter.to) {
      const day = dayOf(row);
      if (filter.from && day < filter.from) return false;
      if (filter.to && day > filter.to) return false;
    }
    return true;
  });
}

export function countTabs(rows: readonly ItemRow[]): Record<Tab, number> {
  const counts: Record<Tab, number> = { training: 0, predict: 0, archived: 0 };
  for (const row of rows) counts[row.tab]++;
  return counts;
}

/** The models that judged any of these rows, by id. */
export function modelsOf(rows: readonly ItemRow[]): number[] {
  const ids = new Set<number>();
  for (const row of rows) for (const result of row.results) ids.add(result.model_id);
  return [...ids].sort((a, b) => a - b);
}

/** The ids from index `a` to index `b` (either order) of the shown rows: a shift-click or shift-arrow range. */
export function rangeIds(rows: readonly ItemRow[], a: number, b: number): string[] {
  const [from, to] = a <= b ? [a, b] : [b, a];
  return rows.slice(Math.max(0, from), Math.min(rows.length, to + 1)).map((row) => row.item_id);
}

/** Where keyboard focus goes in a grid of `columns` from `index` for a key; null when the key does not move it. */
export function moveFocus(key: string, index: number, count: number, columns: number, pageRows: number): number | null {
  const last = count - 1;
  const clamp = (value: number) => Math.max(0, Math.min(last, value));
  switch (key) {
    case 'ArrowRight': return clamp(index + 1);
    case 'ArrowLeft': return clamp(index - 1);
    case 'ArrowDown': return clamp(index + columns);
    case 'ArrowUp': return clamp(index - columns);
    case 'PageDown': return clamp(index + columns * pageRows);
    case 'PageUp': return clamp(index - columns * pageRows);
    case 'Home': return 0;
    case 'End': return last;
    default: return null;
  }
}

/**
 * The rows a virtual grid draws: whole grid rows in view, plus `overscan` rows above and below. A scroll position
 * beyond the end (the rows just shrank, say from 10,000 to 3 by a filter or another line, and the browser's clamped
 * scroll has not reached us yet) counts as the end, so that rows that exist are always drawn.
 */
export function visibleWindow(givenScrollTop: number, viewHeight: number, rowHeight: number, columns: number, count: number, overscan = 2) {
  const gridRows = Math.ceil(count / Math.max(1, columns));
  const scrollTop = Math.max(0, Math.min(givenScrollTop, gridRows * rowHeight - viewHeight));
  const firstRow = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const lastRow = Math.min(gridRows - 1, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  return { firstRow, lastRow, gridRows, totalHeight: gridRows * rowHeight };
}
